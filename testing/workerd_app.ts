// The Cloudflare Worker that testing/workerd_test.ts runs in workerd without
// `nodejs_compat`: the session flow over HTTP with each store that needs no
// file system, plus every module that must load where there is no `node:`
// module (the CSRF guard, the Redis and KV stores, the conformance suite).

import { createCookie } from "../cookie.ts";
import { createCsrfProtection } from "../csrf.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { withSession } from "../middleware.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { sessionStorageCases } from "../conformance/mod.ts";
import type { SessionStorage } from "../session.ts";

const secrets = ["a secret for the workerd test, 32 bytes or more"];

function app(storage: SessionStorage, encrypt: boolean) {
  return withSession(
    { cookie: createCookie("sid", { secrets, encrypt }), storage },
    async (request, session) => {
      const path = new URL(request.url).pathname.split("/").pop();
      if (path === "counter") {
        const count = Number(session.get("count") ?? 0) + 1;
        session.set("count", count);
        return new Response(String(count));
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

const apps: Record<string, (request: Request) => Promise<Response>> = {
  signed: app(createCookieSessionStorage(), false),
  encrypted: app(createCookieSessionStorage(), true),
  memory: app(createMemorySessionStorage(), false),
};

export default {
  fetch(request: Request): Promise<Response> | Response {
    const [, store] = new URL(request.url).pathname.split("/");
    if (store === "modules") {
      const loaded = [
        createCsrfProtection,
        createRedisSessionStorage,
        createKvSessionStorage,
        sessionStorageCases,
      ].every((value) => typeof value === "function");
      return new Response(String(loaded));
    }
    const handler = apps[store];
    return handler
      ? handler(request)
      : new Response("no store", { status: 404 });
  },
};
