// check: runtimes deno

// Hono's cache() with the session middleware, on Deno's Cache API (the one
// runtime here that has `caches`). What a second visitor gets from the cache
// after a first visitor's request, in either order of the two middlewares:
// never the first visitor's session cookie, but a page rendered for the
// first visitor's session whenever that page reached the cache, which only
// the handler can prevent.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono, type MiddlewareHandler } from "hono";
import { cache } from "hono/cache";
import { type SessionEnv, sessionMiddleware } from "../hono.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";

const SECRET = "a test secret that is at least 32 bytes long";

type Order = "cache() first" | "sessionMiddleware first";

/**
 * An app with cache() and the session middleware in `order`, on a cache of
 * its own. `/token` gives each session a token and shows it, as a page with
 * a CSRF token does; `/login` logs in; `/me` shows who is logged in, with
 * `?private` making its response private.
 */
function appWith(order: Order, cacheControl?: string) {
  const cacheName = `hono-cache-test-${crypto.randomUUID()}`;
  const caching = cache({ cacheName, wait: true, cacheControl });
  const sessions = sessionMiddleware({
    cookie: createCookie("sid", { secrets: [SECRET] }),
    storage: createMemorySessionStorage(),
  });
  const app = new Hono<SessionEnv>();
  const [outer, inner]: MiddlewareHandler[] = order === "cache() first"
    ? [caching, sessions]
    : [sessions, caching];
  app.use(outer, inner);
  app.get("/token", (c) => {
    const token = c.var.session.get("token") ?? crypto.randomUUID();
    c.var.session.set("token", token);
    return c.text(String(token));
  });
  app.post("/login", (c) => {
    c.var.session.set("user", c.req.query("user") ?? "nobody");
    return c.text("logged in");
  });
  app.get("/me", (c) => {
    if (c.req.query("private") !== undefined) {
      c.header("Cache-Control", "private");
    }
    return c.text(String(c.var.session.get("user") ?? "nobody"));
  });
  return { app, done: () => caches.delete(cacheName) };
}

function sessionCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((c) => c.startsWith("sid="));
}

describe("hono cache()", () => {
  it("hono cache(): before the session middleware, it stores no response that sets the session cookie", async () => {
    const { app, done } = appWith("cache() first", "max-age=60");
    try {
      const first = await app.request("/token");
      assert.ok(sessionCookie(first));
      // cache() adds its Cache-Control after the session middleware marked
      // the response private, so downstream caches keep out of it too.
      assert.equal(first.headers.get("Cache-Control"), "private, max-age=60");
      const second = await app.request("/token");
      const cookie = sessionCookie(second);
      assert.ok(cookie, "the second visitor gets a session of its own");
      assert.notEqual(cookie, sessionCookie(first));
      assert.notEqual(await second.text(), await first.text());
    } finally {
      await done();
    }
  });

  it("hono cache(): after the session middleware, it stores the page rendered for the first visitor's session, without its cookie, and serves it to the next", async () => {
    const { app, done } = appWith("sessionMiddleware first", "max-age=60");
    try {
      const first = await app.request("/token");
      assert.ok(sessionCookie(first));
      // The cookie is kept from caches downstream, but cache() stored the
      // body before the session middleware added it.
      assert.equal(
        first.headers.get("Cache-Control"),
        'max-age=60, private="Set-Cookie"',
      );
      const second = await app.request("/token");
      assert.equal(sessionCookie(second), undefined);
      assert.equal(await second.text(), await first.text());
    } finally {
      await done();
    }
  });

  for (const order of ["cache() first", "sessionMiddleware first"] as const) {
    it(`hono cache(): with ${order}, a page that shows the session without changing it reaches others from the cache unless its handler makes it private`, async () => {
      const { app, done } = appWith(order);
      try {
        const login = await app.request("/login?user=ada", { method: "POST" });
        const ada = { Cookie: sessionCookie(login)!.split(";")[0] };
        for (const path of ["/me", "/me?private"]) {
          const own = await app.request(path, { headers: ada });
          assert.equal(await own.text(), "ada", path);
          assert.equal(sessionCookie(own), undefined, path);
        }
        const shared = await app.request("/me");
        assert.equal(await shared.text(), "ada", "served from the cache");
        const kept = await app.request("/me?private");
        assert.equal(await kept.text(), "nobody");
      } finally {
        await done();
      }
    });
  }
});
