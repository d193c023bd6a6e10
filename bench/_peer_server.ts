// The servers of the whole-request comparison against the stacks people run
// (bench/http_peers.ts): the same visit counter behind a framework's own
// session middleware and behind this module's. Runs on Deno, Bun and Node 26;
// prints "listening <port>" once it accepts connections, and stops when its
// stdin closes.
//
// Usage: <runtime> bench/_peer_server.ts MODE
//
// Modes, in pairs of the same store kind:
//   express-session, express-ours  Express 5; express-session with its
//                                  MemoryStore, or sessionMiddleware from
//                                  express.ts with the memory store
//   hono-session, hono-ours        Hono; @hono/session keeping the data in
//                                  its encrypted cookie, or sessionMiddleware
//                                  from hono.ts with the cookie store and an
//                                  encrypted cookie
//   express-bare, hono-bare, fetch-bare
//                                  the same page without a session: what
//                                  the framework alone costs
//   remix, remix-ours              @remix-run/fetch-router with
//                                  @remix-run/session-middleware and remix's
//                                  memory storage, or withSession with the
//                                  memory store

import process from "node:process";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import express from "express";
import { Hono } from "hono";
import { type SessionEnv as HonoSessionEnv, useSession } from "@hono/session";
import { createRouter, type Middleware } from "@remix-run/fetch-router";
import { session as remixSession } from "@remix-run/session-middleware";
import { Session as RemixSession } from "@remix-run/session";
import { createMemorySessionStorage as remixMemory } from "@remix-run/session/memory-storage";
import { createCookie as remixCreateCookie } from "@remix-run/cookie";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { withSession } from "../middleware.ts";
import { sessionMiddleware as expressOurs } from "../express.ts";
import { type SessionEnv, sessionMiddleware as honoOurs } from "../hono.ts";
import type { Session } from "../session.ts";
import { MAX_AGE, SECRET, SESSION_DATA } from "./_fixtures.ts";

const mode = process.argv[2];
// Loaded without its types: @types/express-session declares req.session for
// the whole program, which clashes with examples/express_app.ts's under
// `deno check .`.
const expressSession = createRequire(import.meta.url)("express-session") as (
  options: Record<string, unknown>,
) => Parameters<ReturnType<typeof express>["use"]>[0];
const cookieOptions = { secrets: [SECRET], secure: true, maxAge: MAX_AGE };

/**
 * The visit counter on a session with get, set and has; returns the page,
 * which shows the count.
 */
function count(session: Pick<Session, "get" | "set" | "has">): string {
  // The first request logs the user in; the load generator then sends the
  // cookie it got back with every request.
  if (!session.has("userId")) {
    for (const [key, value] of Object.entries(SESSION_DATA)) {
      session.set(key, value);
    }
  }
  const visits = Number(session.get("count") ?? 0) + 1;
  session.set("count", visits);
  return page(visits);
}

function page(visits: number): string {
  return `Visit number ${visits}`;
}

type FetchHandler = (request: Request) => Response | Promise<Response>;

function fetchHandler(): FetchHandler {
  if (mode === "fetch-bare") return () => new Response(page(1));
  if (mode === "hono-bare") {
    const app = new Hono();
    app.get("/", (c) => c.text(page(1)));
    return app.fetch;
  }
  if (mode === "hono-session") {
    const app = new Hono<HonoSessionEnv>();
    // A 32-byte key, hex-encoded, as @hono/session asks.
    app.use(useSession({ secret: "ab".repeat(32) }));
    app.get("/", async (c) => {
      const data = await c.var.session.get() as Record<string, unknown> | null;
      const visits = Number(data?.count ?? 0) + 1;
      await c.var.session.update({ ...(data ?? SESSION_DATA), count: visits });
      return c.text(page(visits));
    });
    return app.fetch;
  }
  if (mode === "hono-ours") {
    const app = new Hono<SessionEnv>();
    app.use(honoOurs({
      cookie: createCookie("sid", { ...cookieOptions, encrypt: true }),
      storage: createCookieSessionStorage(),
    }));
    app.get("/", (c) => {
      return c.text(count(c.var.session));
    });
    return app.fetch;
  }
  if (mode === "remix") {
    const router = createRouter({
      middleware: [
        // session-middleware 0.2.2 types itself against fetch-router 0.18,
        // which it installs below itself; at run time it fits 0.20.1.
        remixSession(
          remixCreateCookie("sid", cookieOptions),
          remixMemory(),
        ) as unknown as Middleware,
      ],
    });
    router.get("/", (context) => {
      return new Response(
        count(context.get(RemixSession) as unknown as Session),
      );
    });
    return (request) => router.fetch(request);
  }
  if (mode === "remix-ours") {
    return withSession({
      cookie: createCookie("sid", cookieOptions),
      storage: createMemorySessionStorage(),
    }, (_request, session) => {
      return new Response(count(session));
    });
  }
  throw new Error(
    `_peer_server: unknown mode "${mode}"; use express-session, ` +
      "express-ours, hono-session, hono-ours, remix or remix-ours",
  );
}

function expressApp(): ReturnType<typeof express> {
  const app = express();
  if (mode === "express-bare") {
    app.get("/", (_req, res) => void res.send(page(1)));
    return app;
  }
  if (mode === "express-session") {
    app.use(expressSession({
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { secure: false, httpOnly: true, maxAge: MAX_AGE * 1000 },
    }));
  } else {
    app.use(expressOurs({
      cookie: createCookie("sid", cookieOptions),
      storage: createMemorySessionStorage(),
    }));
  }
  app.get("/", (req, res) => {
    const session = (req as unknown as { session: Session }).session;
    if (mode === "express-session") {
      // express-session's session is a plain object.
      const data = session as unknown as Record<string, unknown>;
      if (data.userId === undefined) Object.assign(data, SESSION_DATA);
      data.count = Number(data.count ?? 0) + 1;
      res.send(page(data.count as number));
    } else res.send(count(session));
  });
  return app;
}

function listening(port: number): void {
  console.log(`listening ${port}`);
}

const stop: () => Promise<void> | void = await (async () => {
  if (mode.startsWith("express")) {
    const server = createServer(expressApp());
    await new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", resolve)
    );
    listening((server.address() as { port: number }).port);
    return () => void server.close();
  }
  const handler = fetchHandler();
  const runtime = globalThis as {
    Deno?: {
      serve(
        options: {
          hostname: string;
          port: number;
          onListen(addr: { port: number }): void;
        },
        handler: FetchHandler,
      ): { shutdown(): Promise<void> };
    };
    Bun?: {
      serve(options: { hostname: string; port: number; fetch: FetchHandler }): {
        port: number;
        stop(): void;
      };
    };
  };
  if (runtime.Deno) {
    const server = runtime.Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: ({ port }) => listening(port),
    }, handler);
    return () => server.shutdown();
  }
  if (runtime.Bun) {
    const server = runtime.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: handler,
    });
    listening(server.port);
    return () => server.stop();
  }
  throw new Error(`_peer_server: run ${mode} on Deno or Bun`);
})();

// Stop when the driver closes our stdin, or dies.
process.stdin.resume();
process.stdin.on("end", async () => {
  await stop();
  process.exit(0);
});
