// Starts the demo app under whichever runtime runs this file: Deno.serve in
// Deno, Bun.serve in Bun, @hono/node-server in Node (22.18 or later, which
// runs TypeScript directly).
//
//   deno run -A examples/demo.ts
//   bun examples/demo.ts
//   node examples/demo.ts
//
// Environment variables:
//   PORT            the port to listen on (default 8000; 0 picks a free one)
//   HOST            the address to listen on (default 127.0.0.1)
//   SESSION_SECRET  the cookie secret, 32 bytes or more; several separated by
//                   commas rotate secrets: the first signs, all verify
//   SESSION_STORE   fs (default), sqlite, cookie or memory
//   SESSION_DIR     the fs store's folder (default .tmp/demo-sessions)
//   SESSION_DB      the sqlite store's database file (default
//                   .tmp/demo-sessions.db); node:sqlite opens it
//   NODE_ENV        "production" turns on production mode: the cookie is
//                   Secure and named __Host-sid (so no sibling subdomain can
//                   set one in its place), a refused forgery's 403 gives no
//                   reason, and the demo refuses to start without
//                   SESSION_SECRET instead of using a development secret

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import type { SessionIndex, SessionStorage } from "../session.ts";
import { createDemoApp } from "./demo_app.ts";

// Known to everyone who reads this file, so it protects nothing: it only lets
// the demo run without setup. Production mode refuses it.
const DEVELOPMENT_SECRET =
  "development secret of the @x/session demo, not secret";
const SESSION_TTL = 60 * 60 * 24; // a day of inactivity, in seconds
const SESSION_MAX_LIFETIME = 60 * 60 * 24 * 30; // 30 days, however active
// The session value the per-user index of the server-side stores is
// keyed by: the "Your sessions" page lists a user's sessions with it.
const INDEX_BY = "user";

type Handler = (request: Request, info?: unknown) => Promise<Response>;

interface BunLike {
  version: string;
  serve(options: {
    port: number;
    hostname: string;
    fetch: Handler;
  }): { port: number };
}

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}

async function configure() {
  const env = process.env;
  const production = env.NODE_ENV === "production";
  const secrets = (env.SESSION_SECRET ?? "").split(",").filter((s) => s);
  if (secrets.length === 0) {
    if (production) {
      fail(
        "SESSION_SECRET is not set, and NODE_ENV is production. Set it to " +
          "32 or more random bytes, such as the output of " +
          "`openssl rand -base64 32`, kept out of the source code.",
      );
    }
    console.warn(
      "demo: SESSION_SECRET is not set, so the cookie is signed with a " +
        "development secret that anyone who reads this code knows and can " +
        "forge sessions with. Set SESSION_SECRET to 32 or more random bytes " +
        "(`openssl rand -base64 32`) for anything but local development; " +
        "with NODE_ENV=production the demo refuses to start without it.",
    );
    secrets.push(DEVELOPMENT_SECRET);
  }

  const store = env.SESSION_STORE ?? "fs";
  const lifetimes = { ttl: SESSION_TTL, maxLifetime: SESSION_MAX_LIFETIME };
  let storage: SessionStorage;
  let index: SessionIndex | undefined;
  let where = "";
  if (store === "fs") {
    const directory = env.SESSION_DIR ||
      fileURLToPath(new URL("../.tmp/demo-sessions", import.meta.url));
    storage = index = createFsSessionStorage(directory, {
      ...lifetimes,
      indexBy: INDEX_BY,
    });
    where = ` in ${directory}`;
  } else if (store === "sqlite") {
    const file = env.SESSION_DB ||
      fileURLToPath(new URL("../.tmp/demo-sessions.db", import.meta.url));
    mkdirSync(dirname(file), { recursive: true });
    // Imported only when chosen: the other stores need no SQLite.
    const { DatabaseSync } = await import("node:sqlite");
    storage = index = createSqliteSessionStorage(new DatabaseSync(file), {
      ...lifetimes,
      indexBy: INDEX_BY,
    });
    where = ` in ${file}`;
  } else if (store === "cookie") {
    storage = createCookieSessionStorage(lifetimes);
  } else if (store === "memory") {
    storage = index = createMemorySessionStorage({
      ...lifetimes,
      indexBy: INDEX_BY,
    });
  } else {
    fail(`SESSION_STORE is "${store}"; use fs, sqlite, cookie or memory.`);
  }

  const port = Number(env.PORT ?? 8000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`PORT is "${env.PORT}"; use a whole number from 0 to 65535.`);
  }
  const hostname = env.HOST || "127.0.0.1";

  // The __Host- prefix makes browsers refuse the cookie unless it is
  // Secure, on Path=/ and without Domain: a page on a sibling subdomain
  // cannot set one, so it cannot toss a cookie of its own at this one.
  const cookie = createCookie(production ? "__Host-sid" : "sid", {
    secrets,
    // The cookie store's cookie holds the session data: encrypt it so the
    // browser cannot read it. An id needs signing only.
    encrypt: store === "cookie",
    httpOnly: true,
    sameSite: "Lax",
    path: "/",
    secure: production,
  });
  const description = `${store} store${where}` +
    (production ? ", production mode" : "");
  return {
    cookie,
    storage,
    index,
    development: !production,
    port,
    hostname,
    description,
  };
}

async function main() {
  let config;
  try {
    config = await configure();
  } catch (error) {
    fail((error as Error).message);
  }
  const { port, hostname, description } = config;
  const app = createDemoApp(config);

  function announce(runtime: string, actualPort: number) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(
      `Demo listening on http://${host}:${actualPort}/ ` +
        `(${runtime}, ${description})`,
    );
  }

  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (typeof Deno === "object" && typeof Deno.serve === "function") {
    Deno.serve({
      port,
      hostname,
      onListen: (address) =>
        announce(`Deno ${Deno.version.deno}`, address.port),
    }, app);
  } else if (bun !== undefined) {
    const server = bun.serve({ port, hostname, fetch: app });
    announce(`Bun ${bun.version}`, server.port);
  } else {
    const { serve } = await import("@hono/node-server");
    const server = serve(
      { fetch: app, port, hostname },
      (address) => announce(`Node ${process.version}`, address.port),
    );
    server.on("error", (error) => fail(error.message));
  }
}

await main();
