// The Cloudflare Worker that testing/workerd_test.ts runs in workerd, with
// and without `nodejs_compat`: the session flow over HTTP with each store
// that needs no file system, secret rotation, a Worker's env and ctx reaching
// the handler, and every public module but the fs store and mod.ts loaded
// (without `nodejs_compat`, none of them may import a `node:` module).

import { createCookie } from "../cookie.ts";
import { createCsrfProtection } from "../csrf.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { withSession } from "../middleware.ts";
import type { SessionStorage } from "../session.ts";
import * as conformance from "../conformance/mod.ts";
import * as cookie from "../cookie.ts";
import * as cookieStorage from "../cookie_storage.ts";
import * as csrf from "../csrf.ts";
import * as express from "../express.ts";
import * as expressStore from "../express_store.ts";
import * as hono from "../hono.ts";
import * as kvStorage from "../kv_storage.ts";
import * as memoryStorage from "../memory_storage.ts";
import * as middleware from "../middleware.ts";
import * as postgresStorage from "../postgres_storage.ts";
import * as reactRouter from "../react_router.ts";
import * as redisStorage from "../redis_storage.ts";
import * as session from "../session.ts";
import * as sqliteStorage from "../sqlite_storage.ts";
import * as storeKit from "../store_kit.ts";

/** The modules loaded, by their name in deno.json "exports". */
const modules: Record<string, object> = {
  "./conformance": conformance,
  "./cookie": cookie,
  "./cookie-storage": cookieStorage,
  "./csrf": csrf,
  "./express": express,
  "./express-store": expressStore,
  "./hono": hono,
  "./kv-storage": kvStorage,
  "./memory-storage": memoryStorage,
  "./middleware": middleware,
  "./postgres-storage": postgresStorage,
  "./react-router": reactRouter,
  "./redis-storage": redisStorage,
  "./session": session,
  "./sqlite-storage": sqliteStorage,
  "./store-kit": storeKit,
};

const guard = createCsrfProtection();
const secrets = ["a secret for the workerd test, 32 bytes or more"];
const rotated = ["the next secret for the workerd test, 32 bytes", ...secrets];

function app(storage: SessionStorage, encrypt: boolean, keys = secrets) {
  return withSession(
    { cookie: createCookie("sid", { secrets: keys, encrypt }), storage },
    async (request, session) => {
      const path = new URL(request.url).pathname.split("/").pop();
      if (path === "counter") {
        const count = Number(session.get("count") ?? 0) + 1;
        session.set("count", count);
        return new Response(String(count));
      }
      if (path === "pad") {
        // Signs a message long enough for node:crypto's HMAC, where there is
        // node:crypto.
        session.set("pad", "x".repeat(1000));
        return new Response("padded");
      }
      if (path === "login" && request.method === "POST") {
        session.regenerateId(true);
        session.set("user", "ada");
        session.flash("message", "welcome, ada");
        return new Response("logged in");
      }
      if (path === "whoami") {
        return new Response(String(session.get("user") ?? "nobody"));
      }
      if (path === "flash") {
        return new Response(String(session.get("message") ?? "no message"));
      }
      if (path === "logout" && request.method === "POST") {
        session.destroy();
        return new Response("logged out");
      }
      return new Response("not found", { status: 404 });
    },
  );
}

interface Env {
  RUNTIME: string;
}

const apps: Record<
  string,
  (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response>
> = {
  signed: app(createCookieSessionStorage(), false),
  encrypted: app(createCookieSessionStorage(), true),
  memory: app(createMemorySessionStorage(), false),
  "signed-rotated": app(createCookieSessionStorage(), false, rotated),
  "encrypted-rotated": app(createCookieSessionStorage(), true, rotated),
  // A form guarded by its session's token, read by the handler after the
  // guard read it.
  csrf: withSession(
    {
      cookie: createCookie("sid", { secrets }),
      storage: createCookieSessionStorage(),
    },
    guard.protect(async (request, session) => {
      if (request.method === "GET") return new Response(guard.token(session));
      return new Response(`hello ${(await request.formData()).get("user")}`);
    }),
  ),
  // What the handler gets, through the CSRF guard, as a Worker's fetch.
  context: withSession(
    {
      cookie: createCookie("sid", { secrets }),
      storage: createMemorySessionStorage(),
    },
    guard.protect<Env, ExecutionContext>(
      (_request, _session, env, ctx) =>
        Response.json({
          runtime: env.RUNTIME,
          waitUntil: typeof ctx?.waitUntil,
        }),
    ),
  ),
};

/** The part of a Worker's `ctx` this worker uses. */
interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
}

export default {
  fetch(
    request: Request,
    env: Env,
    ctx: ExecutionContext,
  ): Promise<Response> | Response {
    const [, store] = new URL(request.url).pathname.split("/");
    if (store === "modules") {
      const loaded = Object.entries(modules).filter(([, module]) =>
        Object.values(module).some((value) => typeof value === "function")
      );
      return Response.json(loaded.map(([name]) => name));
    }
    if (store === "node-crypto") {
      // What the cookie codec takes node:crypto through, where it can.
      const process = (globalThis as {
        process?: { getBuiltinModule?(id: string): unknown };
      }).process;
      return Response.json(
        typeof process?.getBuiltinModule?.("node:crypto") === "object",
      );
    }
    const handler = apps[store];
    return handler
      ? handler(request, env, ctx)
      : new Response("no store", { status: 404 });
  },
};
