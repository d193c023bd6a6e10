// A tiny app for running several servers on one shared session store:
// start it twice on different ports with the same store and secret, and a
// client can hop between the two without losing its session. It runs under
// Deno, Bun and Node (22.18 or later, which runs TypeScript directly).
//
//   SESSION_STORE=redis REDIS_URL=redis://127.0.0.1:6379 deno run -A examples/shared_store_app.ts
//   SESSION_STORE=kv KV_PATH=.tmp/sessions.sqlite deno run -A --unstable-kv examples/shared_store_app.ts
//   SESSION_STORE=fs SESSION_DIR=.tmp/shared-sessions deno run -A examples/shared_store_app.ts
//   SESSION_STORE=postgres POSTGRES_URL=postgres://127.0.0.1/app deno run -A examples/shared_store_app.ts
//   SESSION_STORE=redis-cluster REDIS_CLUSTER_NODES=redis://127.0.0.1:7000,redis://127.0.0.1:7001 deno run -A examples/shared_store_app.ts
//
// Environment variables:
//   SESSION_STORE   redis, redis-cluster, kv, postgres, or fs (servers on one
//                   machine sharing a folder)
//   REDIS_URL       the Redis server, for the redis store
//   REDIS_CLUSTER_NODES  comma-separated URLs of Redis Cluster nodes (one is
//                   enough: the client finds the others), for redis-cluster
//   KV_PATH         the Deno KV database file, for the kv store
//   POSTGRES_URL    the PostgreSQL database, for the postgres store
//   SESSION_DIR     the sessions folder, for the fs store
//   SESSION_SECRET  the cookie secret; every server must share it
//   SERVER_NAME     a name the app puts in every answer (default "app")
//   PORT, HOST      where to listen (default 0, a free port, on 127.0.0.1)
//
// Routes, each answering with the session's state as JSON:
//   GET /          the state; reading it consumes a pending flash message
//   POST /login    ?user=NAME: sets userId and regenerates the session id
//   POST /count    adds one to the counter
//   POST /flash    ?message=TEXT: a message for the next request
//   POST /mark     ?key=NAME&delay=MS: waits MS milliseconds (at most 100),
//                  as a handler doing I/O would, then adds NAME to the
//                  session's marks; requests that overlap this way show
//                  that no update is lost
//   POST /logout   destroys the session
//
// Once it listens, it prints one line: "listening on http://HOST:PORT/".

import process from "node:process";
import { createClient, createCluster } from "redis";
import pg from "pg";
import { createCookie } from "../cookie.ts";
import { withSession } from "../middleware.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import {
  createKvSessionStorage,
  type KvSessionDatabase,
} from "../kv_storage.ts";
import { createPostgresSessionStorage } from "../postgres_storage.ts";
import type { Session, SessionStorage } from "../session.ts";

type Handler = (request: Request) => Promise<Response>;

function fail(message: string): never {
  console.error(`shared_store_app: ${message}`);
  process.exit(1);
}

async function openStorage(): Promise<SessionStorage> {
  const store = process.env.SESSION_STORE;
  const ttl = 60 * 60; // an hour of inactivity
  if (store === "redis") {
    const url = process.env.REDIS_URL ?? fail("REDIS_URL is not set.");
    const client = createClient({ url });
    client.on("error", (error) => console.error(`redis: ${error}`));
    await client.connect();
    return createRedisSessionStorage(client, { ttl });
  }
  if (store === "redis-cluster") {
    const nodes = process.env.REDIS_CLUSTER_NODES ??
      fail("REDIS_CLUSTER_NODES is not set.");
    const cluster = createCluster({
      rootNodes: nodes.split(",").map((url) => ({ url })),
    });
    cluster.on("error", (error) => console.error(`redis cluster: ${error}`));
    await cluster.connect();
    return createRedisSessionStorage(cluster, { ttl });
  }
  if (store === "kv") {
    const path = process.env.KV_PATH ?? fail("KV_PATH is not set.");
    return createKvSessionStorage(await openKv(path), { ttl });
  }
  if (store === "postgres") {
    const url = process.env.POSTGRES_URL ?? fail("POSTGRES_URL is not set.");
    const pool = new pg.Pool({ connectionString: url });
    pool.on("error", (error) => console.error(`postgres: ${error}`));
    return createPostgresSessionStorage(pool, { ttl });
  }
  if (store === "fs") {
    const dir = process.env.SESSION_DIR ?? fail("SESSION_DIR is not set.");
    return createFsSessionStorage(dir, { ttl });
  }
  fail(
    'SESSION_STORE must be "redis", "redis-cluster", "kv", "postgres" or ' +
      `"fs", got ${JSON.stringify(store)}.`,
  );
}

// Deno.openKv under Deno (run with --unstable-kv); the @deno/kv package
// under Node and Bun. The store writes only bytes, so @deno/kv needs no V8
// serializer, which Bun lacks.
async function openKv(path: string): Promise<KvSessionDatabase> {
  const deno = (globalThis as {
    Deno?: { openKv?: (path: string) => Promise<KvSessionDatabase> };
  }).Deno;
  if (deno?.openKv) return await deno.openKv(path);
  if (deno) fail("run it with --unstable-kv for Deno KV.");
  const { openKv } = await import("@deno/kv");
  const bytesOnly = () => {
    throw new Error("The session store writes only Uint8Array values.");
  };
  return await openKv(path, {
    encodeV8: bytesOnly,
    decodeV8: bytesOnly,
  }) as unknown as KvSessionDatabase;
}

const MARK_PREFIX = "mark:";
const MAX_DELAY_MS = 100;

function state(server: string, session: Session): Response {
  const marks: string[] = [];
  for (const key of Object.keys(session.data[0])) {
    if (key.startsWith(MARK_PREFIX)) marks.push(key.slice(MARK_PREFIX.length));
  }
  return Response.json({
    server,
    userId: session.get("userId") ?? null,
    count: session.get("count") ?? 0,
    message: session.get("message") ?? null,
    marks: marks.sort(),
  });
}

function createApp(storage: SessionStorage, secret: string): Handler {
  const server = process.env.SERVER_NAME ?? "app";
  const cookie = createCookie("sid", {
    secrets: [secret],
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
  });
  return withSession({ cookie, storage }, async (request, session) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (route === "POST /login") {
      session.set("userId", url.searchParams.get("user") ?? "anonymous");
      // A new id at login: an id planted before is worth nothing after.
      session.regenerateId(true);
    } else if (route === "POST /count") {
      session.set("count", Number(session.get("count") ?? 0) + 1);
    } else if (route === "POST /flash") {
      session.flash("message", url.searchParams.get("message") ?? "");
    } else if (route === "POST /mark") {
      const delay = Number(url.searchParams.get("delay") ?? 0);
      const ms = Math.min(Math.max(delay, 0), MAX_DELAY_MS) || 0;
      await new Promise((resolve) => setTimeout(resolve, ms));
      session.set(MARK_PREFIX + (url.searchParams.get("key") ?? ""), true);
    } else if (route === "POST /logout") {
      session.destroy();
      return Response.json({
        server,
        userId: null,
        count: 0,
        message: null,
        marks: [],
      });
    } else if (route !== "GET /") {
      return new Response("not found", { status: 404 });
    }
    return state(server, session);
  });
}

interface Runtimes {
  Deno?: {
    serve(
      options: {
        port: number;
        hostname: string;
        onListen(address: { port: number }): void;
      },
      handler: Handler,
    ): unknown;
  };
  Bun?: {
    serve(options: { port: number; hostname: string; fetch: Handler }): {
      port: number;
    };
  };
}

async function listen(handler: Handler, host: string, port: number) {
  const { Deno, Bun } = globalThis as Runtimes;
  if (Deno) {
    return await new Promise<number>((resolve) =>
      Deno.serve({
        port,
        hostname: host,
        onListen: (address) => resolve(address.port),
      }, handler)
    );
  }
  if (Bun) return Bun.serve({ port, hostname: host, fetch: handler }).port;
  const { serve } = await import("@hono/node-server");
  return await new Promise<number>((resolve) =>
    serve(
      { fetch: handler, port, hostname: host },
      (info) => resolve(info.port),
    )
  );
}

const secret = process.env.SESSION_SECRET ??
  fail("SESSION_SECRET is not set; every server must share one.");
const host = process.env.HOST ?? "127.0.0.1";
const handler = createApp(await openStorage(), secret);
const port = await listen(handler, host, Number(process.env.PORT ?? 0));
console.log(`listening on http://${host}:${port}/`);
