/**
 * Sessions for [Hono](https://hono.dev) apps: {@linkcode sessionMiddleware}
 * puts the request's session on `c.var.session` and saves it after the
 * handler, unless the handler threw.
 *
 * @example A visit counter
 * ```ts
 * import { Hono } from "hono";
 * import { type SessionEnv, sessionMiddleware } from "@x/session/hono";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<SessionEnv>();
 * app.use(sessionMiddleware({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }));
 * app.get("/", (c) => {
 *   const count = Number(c.var.session.get("count") ?? 0) + 1;
 *   c.var.session.set("count", count);
 *   return c.text(`Visit number ${count}`);
 * });
 * // Deno.serve(app.fetch), Bun.serve(app), or serve(app) from @hono/node-server
 *
 * const first = await app.request("/");
 * const cookie = first.headers.get("Set-Cookie")!.split(";")[0];
 * const second = await app.request("/", { headers: { Cookie: cookie } });
 * assert.equal(await second.text(), "Visit number 2");
 * ```
 *
 * @module
 */

import type { SessionMiddlewareOptions } from "./middleware.ts";
import type { Session, SessionValues } from "./session.ts";
import { checkSessionOptions, closeSession, openSession } from "./_adapter.ts";
import { copyHeaders } from "./_committed_cookies.ts";

export type { SessionMiddlewareOptions } from "./middleware.ts";

/**
 * The Hono environment that {@linkcode sessionMiddleware} provides: give it
 * to `new Hono<SessionEnv>()` (or merge it into your own environment type) so
 * that `c.var.session` and `c.get("session")` are typed.
 *
 * @example Typed session values
 * ```ts
 * import { Hono } from "hono";
 * import type { SessionEnv } from "@x/session/hono";
 *
 * const app = new Hono<SessionEnv<{ userId: string }>>();
 * app.get("/", (c) => c.text(c.var.session.get("userId") ?? "nobody"));
 * ```
 *
 * @typeParam Data The values the session holds.
 * @typeParam FlashData The flash values the session holds.
 */
export interface SessionEnv<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
> {
  /** The variables of Hono's context: the session. */
  Variables: { session: Session<Data, FlashData> };
}

/**
 * The parts of Hono's `Context` that {@linkcode sessionMiddleware} uses.
 * Hono's own `Context` of an app typed with {@linkcode SessionEnv} fits it.
 *
 * @example
 * ```ts
 * import type { Context } from "hono";
 * import type { HonoSessionContext, SessionEnv } from "@x/session/hono";
 *
 * const fits = (c: Context<SessionEnv>): HonoSessionContext => c;
 * ```
 */
export interface HonoSessionContext {
  /** The request, whose `raw` Request carries the session cookie. */
  req: { raw: Request };
  /** The response the handler produced. */
  readonly res: Response;
  /** The error the handler threw, which Hono turned into a response. */
  error: Error | undefined;
  /** Reads a context variable: the session an earlier middleware set. */
  get(key: "session"): unknown;
  /** Sets a context variable. */
  set(key: "session", value: Session): void;
  /** Sets or appends a response header. */
  header(name: string, value: string, options: { append: boolean }): void;
}

/**
 * Creates a Hono middleware that reads the request's session and puts it on
 * `c.var.session`, then, after the handler, saves it and adds its
 * `Set-Cookie` header to the response (one with `Max-Age=0` when the
 * session was destroyed).
 *
 * When the handler threw, Hono turns the error into a response and sets
 * `c.error`: the session is then not saved and no cookie is sent, so a
 * half-done change, such as a login whose next step failed, is not kept.
 * Redirects, including a `Response.redirect()` the handler returns, carry
 * the cookie. The `Set-Cookie` headers the handler set are kept; when the
 * handler set the session cookie itself, its header is the one sent.
 * A response that gets the session cookie is marked private for shared
 * caches, as `commitSession` of `@x/session/middleware` describes.
 *
 * Register it before Hono's `etag()`, so that it runs outside it: `etag()`
 * turns a response that matches the request's `If-None-Match` into a 304
 * that keeps only its `retainedHeaders`, Set-Cookie not among them by
 * default, and from outside the session middleware it would drop the
 * session cookie. Where `etag()` must come first, give it
 * `retainedHeaders: [...RETAINED_304_HEADERS, "set-cookie"]`.
 *
 * One session middleware runs per request: one that finds `c.var.session`
 * already set (by a second session middleware, the same one mounted twice,
 * or another library) throws, and the request fails through the error
 * handler with nothing saved, since two would each save their own session
 * while the handlers saw only the one that ran last. Give an area with a
 * session cookie of its own, such as an admin area, a middleware on its
 * paths, and keep the app-wide one off them (with `except` from
 * `hono/combine`).
 *
 * @example Logging in, and a failure that keeps nothing
 * ```ts
 * import { Hono } from "hono";
 * import { type SessionEnv, sessionMiddleware } from "@x/session/hono";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<SessionEnv>();
 * app.use(sessionMiddleware({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }));
 * app.post("/login", (c) => {
 *   c.var.session.regenerateId(true);
 *   c.var.session.set("userId", "mj");
 *   return c.redirect("/", 303);
 * });
 * app.post("/broken", (c) => {
 *   c.var.session.set("userId", "admin");
 *   throw new Error("the next step failed");
 * });
 * // c.error is set before the error handler runs, this one or Hono's own.
 * app.onError((_error, c) => c.text("Something went wrong", 500));
 *
 * const login = await app.request("/login", { method: "POST" });
 * assert.match(login.headers.get("Set-Cookie")!, /^sid=/);
 * const broken = await app.request("/broken", { method: "POST" });
 * assert.equal(broken.status, 500);
 * assert.equal(broken.headers.get("Set-Cookie"), null);
 * ```
 *
 * @example With Hono's etag(), whose 304s then carry the session cookie
 * ```ts
 * import { Hono } from "hono";
 * import { etag } from "hono/etag";
 * import { type SessionEnv, sessionMiddleware } from "@x/session/hono";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const app = new Hono<SessionEnv>();
 * app.use(sessionMiddleware({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }));
 * app.use(etag());
 * app.get("/", (c) => {
 *   c.var.session.regenerateId(true); // the old id is deleted
 *   return c.text("Welcome");
 * });
 *
 * const first = await app.request("/");
 * const second = await app.request("/", {
 *   headers: {
 *     Cookie: first.headers.get("Set-Cookie")!.split(";")[0],
 *     "If-None-Match": first.headers.get("ETag")!,
 *   },
 * });
 * assert.equal(second.status, 304);
 * assert.match(second.headers.get("Set-Cookie")!, /^sid=/); // the new id
 * ```
 *
 * @param options The session cookie and the storage.
 * @returns The middleware, for `app.use()`.
 * @throws {TypeError} When the cookie is not signed or the storage is not a
 * session storage.
 */
export function sessionMiddleware(
  options: SessionMiddlewareOptions,
): (c: HonoSessionContext, next: () => Promise<void>) => Promise<void> {
  checkSessionOptions("sessionMiddleware", options);
  return async (c, next) => {
    const session = await openSession(
      c.req.raw,
      "c.var.session",
      c.get("session"),
      options,
    );
    c.set("session", session);
    await next();
    if (c.error !== undefined) return;
    // A copy, because the response's own headers may be immutable (a
    // Response.redirect() the handler returned). Hono's `c.header` then
    // makes the response mutable; replacing `c.res` would not do, as Hono
    // puts back the Set-Cookie headers of the response it replaces.
    const { setCookies, cacheControl } = await closeSession(
      session,
      copyHeaders(c.res.headers),
      options,
    );
    // All of them, the first one replacing the response's: a commit may
    // replace a cookie another commit put there.
    setCookies?.forEach((setCookie, i) => {
      c.header("Set-Cookie", setCookie, { append: i > 0 });
    });
    if (cacheControl !== undefined) {
      c.header("Cache-Control", cacheControl, { append: false });
    }
  };
}
