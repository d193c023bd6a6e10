/**
 * Sessions for fetch-style servers: {@linkcode withSession} wraps a
 * `(request) => Response` handler for `Deno.serve`, `Bun.serve` or a
 * fetch-to-node adapter, and {@linkcode readSession} with
 * {@linkcode commitSession} do the same job by hand. The framework adapters
 * (`@x/session/hono`, `@x/session/express`, `@x/session/react-router`) are
 * built on them.
 *
 * @example Serving a visit counter
 * ```ts
 * import { withSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const handler = withSession({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }, (_request, session) => {
 *   const count = Number(session.get("count") ?? 0) + 1;
 *   session.set("count", count);
 *   return new Response(`Visit number ${count}`);
 * });
 * // Deno.serve(handler), or Bun.serve({ fetch: handler })
 * ```
 *
 * @module
 */

import { describeValue } from "./_describe.ts";
import {
  type CommittedCookie,
  committedCookies,
} from "./_committed_cookies.ts";
import type { Cookie } from "./cookie.ts";
import type { Session, SessionStorage } from "./session.ts";

/**
 * Options for {@linkcode withSession}, {@linkcode readSession} and
 * {@linkcode commitSession}: which cookie carries the session, and where
 * sessions live.
 *
 * @example
 * ```ts
 * import type { SessionMiddlewareOptions } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createFsSessionStorage } from "@x/session/fs-storage";
 *
 * const sessions: SessionMiddlewareOptions = {
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *     secure: true,
 *     maxAge: 60 * 60 * 24 * 7,
 *   }),
 *   storage: createFsSessionStorage("./.tmp/sessions", { ttl: 60 * 60 * 24 * 7 }),
 * };
 * ```
 */
export interface SessionMiddlewareOptions {
  /**
   * The cookie that carries the session's cookie value. It must be signed
   * (created with `secrets`), or clients could choose their own session ids
   * or, with a cookie store, their own session data.
   */
  cookie: Cookie;
  /** Where sessions live between requests. */
  storage: SessionStorage;
}

/**
 * A request handler that works with a session: what {@linkcode withSession}
 * wraps. It may change the session; it is saved after the handler returns.
 *
 * @example
 * ```ts
 * import type { SessionHandler } from "@x/session/middleware";
 *
 * const logout: SessionHandler = (_request, session) => {
 *   session.destroy();
 *   return new Response(null, { status: 303, headers: { Location: "/" } });
 * };
 * ```
 *
 * @typeParam Info What the server passes as the handler's second argument:
 * `Deno.ServeHandlerInfo` for `Deno.serve`, the `Server` for `Bun.serve`,
 * the `env` bindings for a Cloudflare Worker's `fetch`.
 * @typeParam Context What the server passes as the third argument: a
 * Cloudflare Worker's `ctx`, whose `waitUntil` runs work after the response.
 */
export type SessionHandler<Info = unknown, Context = unknown> = (
  request: Request,
  session: Session,
  info: Info,
  context?: Context,
) => Response | Promise<Response>;

/**
 * Wraps a handler so that it gets the request's session, and the session is
 * saved and its cookie sent after the handler returns.
 *
 * The returned function has the shape `Deno.serve` and `Bun.serve` expect.
 * For each request it reads the session from the cookie, calls the handler,
 * saves the session and adds a `Set-Cookie` header to the response when the
 * cookie must change (one with `Max-Age=0` when the session was destroyed;
 * several for a chunked cookie, see {@linkcode commitSession}).
 * The `Set-Cookie` headers the handler set are kept; when the handler set
 * the session cookie itself, its header is the one sent (one it committed
 * from another `Session` follows {@linkcode commitSession}'s rule for two
 * sessions). A response with immutable headers, such as
 * `Response.redirect()` or a `fetch()` result, is copied. When the handler
 * throws, the session is not saved and the error propagates. A response
 * that gets the session cookie is kept from shared caches as
 * {@linkcode commitSession} describes.
 *
 * It warns once, with `console.warn`, when the session cookie is sent
 * without `Secure` on a request to a host other than localhost.
 *
 * @example A counter, served by Deno or Bun
 * ```ts
 * import { withSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const handler = withSession({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }, (_request, session) => {
 *   const count = Number(session.get("count") ?? 0) + 1;
 *   session.set("count", count);
 *   return new Response(`Visit number ${count}`);
 * });
 * // Deno.serve(handler), or Bun.serve({ fetch: handler })
 *
 * const first = await handler(new Request("http://localhost/"));
 * const cookie = first.headers.get("Set-Cookie")!.split(";")[0];
 * const second = await handler(
 *   new Request("http://localhost/", { headers: { Cookie: cookie } }),
 * );
 * assert.equal(await second.text(), "Visit number 2");
 * ```
 *
 * @typeParam Info What the server passes as the handler's second argument.
 * @typeParam Context What the server passes as the third argument.
 * @param options The session cookie and the storage.
 * @param handler The request handler that works with the session.
 * @returns A request handler for `Deno.serve`, `Bun.serve`, a
 * fetch-to-node adapter such as `@hono/node-server`, or a Cloudflare
 * Worker's `fetch(request, env, ctx)`.
 * @throws {TypeError} When the cookie is not signed, the storage is not a
 * session storage, or `handler` is not a function.
 */
export function withSession<Info = unknown, Context = unknown>(
  options: SessionMiddlewareOptions,
  handler: SessionHandler<Info, Context>,
): (request: Request, info?: Info, context?: Context) => Promise<Response> {
  checkOptions("withSession", options);
  if (typeof handler !== "function") {
    throw new TypeError(
      `withSession: argument "handler" must be a function that returns a ` +
        `Response, got ${describeValue(handler)}.`,
    );
  }
  return async (request, info, context) => {
    const session = await readSession(request, options);
    const response = await handler(request, session, info as Info, context);
    if (!isResponse(response)) {
      throw new TypeError(
        `withSession: the handler must return a Response, got ` +
          `${describeValue(response)}; the session was not saved.`,
      );
    }
    return await commitSession(session, response, options);
  };
}

/**
 * Reads the session of a request: the session the request's cookie points
 * to, or a new session when the cookie is missing, forged or unknown.
 *
 * Use it with {@linkcode commitSession} where {@linkcode withSession} does
 * not fit. For Hono, Express and React Router, `@x/session/hono`,
 * `@x/session/express` and `@x/session/react-router` do this for you.
 *
 * @example Reading and committing by hand
 * ```ts
 * import { commitSession, readSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const sessions = {
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * };
 *
 * async function handle(request: Request): Promise<Response> {
 *   const session = await readSession(request, sessions);
 *   const count = Number(session.get("count") ?? 0) + 1;
 *   session.set("count", count);
 *   // Commit only a response that succeeded: a failed request keeps nothing.
 *   return await commitSession(session, new Response(`Visit ${count}`), sessions);
 * }
 *
 * const first = await handle(new Request("http://localhost/"));
 * const cookie = first.headers.get("Set-Cookie")!.split(";")[0];
 * const second = await handle(
 *   new Request("http://localhost/", { headers: { Cookie: cookie } }),
 * );
 * assert.equal(await second.text(), "Visit 2");
 * ```
 *
 * @param request The request whose `Cookie` header is read.
 * @param options The session cookie and the storage.
 * @returns The request's session.
 * @throws {TypeError} When the cookie is not signed or the storage is not a
 * session storage.
 */
export async function readSession(
  request: Request,
  options: SessionMiddlewareOptions,
): Promise<Session> {
  checkOptions("readSession", options);
  const cookieHeader = request.headers.get("Cookie");
  const value = await options.cookie.parse(cookieHeader);
  const session = await options.storage.read(value);
  const warn = !warnedCookies.has(options.cookie);
  const chunked = options.cookie.chunked === true;
  if (warn || chunked) {
    commits.set(session, {
      request: warn ? request : undefined,
      cookieHeader: chunked ? cookieHeader : null,
      added: undefined,
    });
  }
  return session;
}

/**
 * Saves a session and adds the `Set-Cookie` header its cookie needs to a
 * response, or to the headers of a response being built.
 *
 * No header is added when the cookie can stay as it is, nor when the
 * handler set the session cookie itself (other than by commitSession on
 * these headers). A second commit of this session replaces what the first
 * one added, so the cookie sent is the last save's. A response carries one
 * session cookie, so read the session once per request. When commitSession
 * already put another `Session`'s cookie on these headers (or on the
 * `Response` it returned), this one adds nothing when its cookie would be
 * the same (the same id on a server-side store, which merges the changes of
 * both; the same id and data on the cookie store); a destroyed session gives
 * way to a new one (another id), whose cookie is sent; any other case
 * throws, after the save.
 *
 * A chunked cookie (option `chunked` of `createCookie`) gets a header per
 * chunk, and one that expires each chunk the request read by
 * {@linkcode readSession} carried and the session no longer needs. When
 * `target` is a `Response` and a header is needed, the result is a copy of
 * it with the header added, so a response with immutable headers works, and
 * a response object that a handler reuses never carries one client's cookie
 * to another. `Headers` are changed in place.
 *
 * When it adds the cookie, it also keeps shared caches (CDNs, proxies,
 * Hono's `cache()`) from handing it to other clients: a response with no
 * `Cache-Control` gets `Cache-Control: private`, and one whose
 * `Cache-Control` has neither `private` nor `no-store` gets
 * `private="Set-Cookie"` added (or `Set-Cookie` joins the fields of its
 * qualified `private`), which lets shared caches keep the body, as the
 * handler allowed, but not the cookie. A response that sets no session
 * cookie is left as it is: one whose body depends on the session needs
 * `Cache-Control: private` from its handler.
 *
 * @example Committing onto a response
 * ```ts
 * import { commitSession, readSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const sessions = {
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * };
 *
 * const session = await readSession(new Request("http://localhost/"), sessions);
 * session.set("userId", "mj");
 * const response = await commitSession(
 *   session,
 *   Response.redirect("http://localhost/account", 303),
 *   sessions,
 * );
 * assert.match(response.headers.get("Set-Cookie")!, /^sid=/);
 * ```
 *
 * @param session The session to save.
 * @param target The response to send, or the headers of one being built.
 * @param options The session cookie and the storage.
 * @returns The response to send instead of `target`, or `target` itself.
 * @throws {TypeError} When the cookie is not signed, the storage is not a
 * session storage, or `target` is `Headers` that cannot change.
 * @throws {Error} When another `Session` committed onto `target` sent a
 * different session cookie; this one is saved but its cookie not added.
 */
export function commitSession(
  session: Session,
  target: Response,
  options: SessionMiddlewareOptions,
): Promise<Response>;
/**
 * Saves a session and adds the `Set-Cookie` header its cookie needs to the
 * headers of a response being built. See the overload for a `Response`.
 *
 * @example Committing onto headers
 * ```ts
 * import { commitSession, readSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const sessions = {
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * };
 *
 * const session = await readSession(new Request("http://localhost/"), sessions);
 * session.set("theme", "dark");
 * const headers = new Headers({ "Content-Type": "text/plain" });
 * await commitSession(session, headers, sessions);
 * assert.equal(headers.getSetCookie().length, 1);
 * ```
 *
 * @param session The session to save.
 * @param target The headers of the response being built; changed in place.
 * @param options The session cookie and the storage.
 * @returns `target`.
 */
export function commitSession(
  session: Session,
  target: Headers,
  options: SessionMiddlewareOptions,
): Promise<Headers>;
export async function commitSession(
  session: Session,
  target: Response | Headers,
  options: SessionMiddlewareOptions,
): Promise<Response | Headers> {
  checkOptions("commitSession", options);
  const response = isResponse(target) ? target : undefined;
  if (response === undefined && !isHeaders(target)) {
    throw new TypeError(
      `commitSession: argument "target" must be a Response or Headers, got ` +
        `${describeValue(target)}.`,
    );
  }
  const { cookie, storage } = options;
  const value = await storage.save(session);
  if (value === null) return target;
  const commit = commits.get(session);
  const headers = response ? response.headers : target as Headers;
  // The Set-Cookie headers this commit replaces: those its session's last
  // commit added.
  let replaced = commit?.added;
  if (setsCookie(headers, cookie.name, replaced)) {
    // Checked after the save, as only the value it returns tells whether the
    // two sessions' cookies differ.
    const other = committedBy(headers, cookie.name, replaced);
    if (other === undefined) return target;
    if (other.session === session || replacesEnded(session, other)) {
      replaced = other.setCookies;
    } else if (conflicts(session, value, other)) {
      throw new Error(
        "commitSession: another Session object already put the session " +
          `cookie "${cookie.name}" on these headers, and this session's ` +
          "cookie would differ from it. A response carries one session " +
          "cookie: the client would keep one session and lose the other's " +
          "changes. This session was saved to the storage, but its cookie " +
          "was not added. Read the session once per request and pass that " +
          "Session to the code that needs it (under withSession or an " +
          "adapter, the session it gives the handler).",
      );
    } else return target;
  }

  const overrides = value === ""
    ? { maxAge: 0, expires: new Date(0) }
    : undefined;
  const setCookies = cookie.chunked === true
    ? await cookie.serializeAll(value, commit?.cookieHeader ?? null, overrides)
    : [await cookie.serialize(value, overrides)];
  if (commit?.request !== undefined) {
    warnIfInsecure(cookie, setCookies[0], commit.request);
  }
  if (commit === undefined) {
    commits.set(session, {
      request: undefined,
      cookieHeader: null,
      added: setCookies,
    });
  } else commit.added = setCookies;
  const committed = committedCookies.get(headers);
  const placed: CommittedCookie[] = [
    { name: cookie.name, session, value, setCookies },
  ];
  if (committed !== undefined) {
    placed.unshift(...committed.filter(({ name }) => name !== cookie.name));
  }

  if (response === undefined) {
    try {
      removeAdded(headers, replaced);
      for (const setCookie of setCookies) {
        headers.append("Set-Cookie", setCookie);
      }
      keepFromSharedCaches(headers);
      committedCookies.set(headers, placed);
    } catch (error) {
      throw new TypeError(
        "commitSession: cannot add the session cookie to these headers: " +
          "they are immutable, as those of Response.redirect() or fetch() " +
          "results are. Pass the Response itself and send the one " +
          "commitSession returns.",
        { cause: error },
      );
    }
    return target;
  }
  // The Response constructor refuses statuses outside 200-599, such as the
  // 101 of a WebSocket upgrade, which must also stay the same object.
  const out = response.status < 200 || response.status > 599
    ? response
    : new Response(response.body, {
      status: response.status,
      statusText: response.statusText,
      // A Headers of its own: in Bun 1.4 the copy sometimes kept the
      // handler's Headers object (seen in the full test run, never alone),
      // and the next client given the same Response would carry this
      // client's cookie.
      headers: new Headers(response.headers),
    });
  removeAdded(out.headers, replaced);
  for (const setCookie of setCookies) {
    out.headers.append("Set-Cookie", setCookie);
  }
  keepFromSharedCaches(out.headers);
  committedCookies.set(out.headers, placed);
  return out;
}

/**
 * The commit of another session whose cookie `name` `headers` carry, when
 * every Set-Cookie of that name there, but those of `replaced`, is its;
 * `undefined` when the handler set one.
 */
function committedBy(
  headers: Headers,
  name: string,
  replaced: string[] | undefined,
): CommittedCookie | undefined {
  const committed = committedCookies.get(headers);
  if (committed === undefined) return undefined;
  const other = committed.find((entry) => entry.name === name);
  if (other === undefined) return undefined;
  const prefix = `${name}=`;
  for (const header of headers.getSetCookie()) {
    if (
      header.trimStart().startsWith(prefix) && !replaced?.includes(header) &&
      !other.setCookies.includes(header)
    ) return undefined;
  }
  return other;
}

/**
 * Whether `session` is a new session that takes the place of `other`, a
 * destroyed one: the cookie that would end `other` has nothing to keep.
 */
function replacesEnded(session: Session, other: CommittedCookie): boolean {
  return other.value === "" && other.session.id !== session.id;
}

/**
 * Whether sending `value`, the cookie value of `session`, instead of the
 * cookie `other` sends would lose anything either session holds. A
 * destroyed session gives way to a new one (another id): its data is gone.
 * Two sessions with the same id and data carry the same: a cookie store's
 * values then differ only in the times they hold.
 */
function conflicts(
  session: Session,
  value: string,
  other: CommittedCookie,
): boolean {
  if (value === other.value) return false;
  if (value === "" && other.session.id !== session.id) return false;
  return session.destroyed || other.session.destroyed ||
    session.id !== other.session.id ||
    JSON.stringify(session.data) !== JSON.stringify(other.session.data);
}

// A shared cache (a CDN, a proxy, Hono's cache()) that stored a response
// with the session cookie would hand the session to every client it serves
// that response to. Where the handler said nothing about caching, the
// response was made for this client's session: all of it is private. Where
// the handler let shared caches store it, its word on the body stands and
// only the cookie is kept out (a qualified private, RFC 9111 5.2.2.7; a
// qualified no-cache would not do, as a cache may send the stored cookie
// again after revalidating). A qualified private the handler gave already
// names the fields to keep out: Set-Cookie joins them, as RFC 9111 says
// nothing of a directive given twice, and a cache that took only the
// first would store the cookie. A second commit finds its own name there.
const KEPT_FROM_SHARED_CACHES = /(?:^|,)\s*(?:private|no-store)\s*(?:,|$)/i;
const QUALIFIED_PRIVATE = /((?:^|,)\s*private\s*=\s*)(?:"([^"]*)"|([^,\s]*))/i;
function keepFromSharedCaches(headers: Headers): void {
  const cacheControl = headers.get("Cache-Control");
  if (cacheControl === null) {
    headers.set("Cache-Control", "private");
    return;
  }
  if (KEPT_FROM_SHARED_CACHES.test(cacheControl)) return;
  const qualified = QUALIFIED_PRIVATE.exec(cacheControl);
  if (qualified === null) {
    headers.append("Cache-Control", 'private="Set-Cookie"');
    return;
  }
  const names = (qualified[2] ?? qualified[3]).split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.some((name) => name.toLowerCase() === "set-cookie")) return;
  const end = qualified.index + qualified[0].length;
  headers.set(
    "Cache-Control",
    cacheControl.slice(0, qualified.index) + qualified[1] +
      `"${[...names, "Set-Cookie"].join(", ")}"` + cacheControl.slice(end),
  );
}

/** What commitSession needs to know of a session, beyond the session. */
interface Commit {
  /**
   * The request readSession read it from, while the insecure-cookie warning
   * for its cookie has not been shown. The request, not its URL: reading
   * request.url costs a string on every request, and the URL is needed only
   * when a cookie goes out without Secure.
   */
  request: Request | undefined;
  /**
   * For a chunked cookie, the Cookie header it was read from, so that
   * commitSession expires the chunks the request carried and the session no
   * longer needs.
   */
  cookieHeader: string | null;
  /**
   * The Set-Cookie headers its last commit added: a second commit replaces
   * them, where it leaves alone a session cookie the handler set.
   */
  added: string[] | undefined;
}
const commits = new WeakMap<Session, Commit>();
const warnedCookies = new WeakSet<Cookie>();

function warnIfInsecure(
  cookie: Cookie,
  setCookie: string,
  request: Request,
): void {
  if (warnedCookies.has(cookie) || /;\s*Secure\s*(;|$)/i.test(setCookie)) {
    return;
  }
  let hostname: string;
  try {
    hostname = new URL(request.url).hostname;
  } catch {
    return;
  }
  if (isLocalhost(hostname)) return;
  warnedCookies.add(cookie);
  console.warn(
    `@x/session: the session cookie "${cookie.name}" is sent without the ` +
      `Secure attribute on a request to "${hostname}", so it travels in ` +
      "clear text over plain HTTP, where anyone on the network can steal " +
      "the session. Serve the site over HTTPS and create the cookie with " +
      "{ secure: true }. (This warning is shown once.)",
  );
}

function isLocalhost(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost") ||
    hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Whether `headers` set the cookie `name`, other than in `added`. */
function setsCookie(
  headers: Headers,
  name: string,
  added: string[] | undefined,
): boolean {
  const prefix = `${name}=`;
  for (const header of headers.getSetCookie()) {
    if (header.trimStart().startsWith(prefix) && !added?.includes(header)) {
      return true;
    }
  }
  return false;
}

/** Removes from `headers` the Set-Cookie headers of `added`. */
function removeAdded(headers: Headers, added: string[] | undefined): void {
  if (added === undefined) return;
  const all = headers.getSetCookie();
  if (!all.some((header) => added.includes(header))) return;
  headers.delete("Set-Cookie");
  for (const header of all) {
    if (!added.includes(header)) headers.append("Set-Cookie", header);
  }
}

function checkOptions(caller: string, options: SessionMiddlewareOptions) {
  const { cookie, storage } = options ?? {};
  if (
    typeof cookie?.parse !== "function" ||
    typeof cookie?.serialize !== "function"
  ) {
    throw new TypeError(
      `${caller}: option "cookie" must be a cookie from createCookie(), got ` +
        `${describeValue(cookie)}.`,
    );
  }
  if (!cookie.signed) {
    throw new TypeError(
      `${caller}: option "cookie" is the unsigned cookie "${cookie.name}": ` +
        "clients could choose its value, and so their session. Create it " +
        "with createCookie(name, { secrets: [secret] }), the secret being 32 " +
        "or more random bytes kept out of the source code.",
    );
  }
  if (
    typeof storage?.read !== "function" || typeof storage?.save !== "function"
  ) {
    throw new TypeError(
      `${caller}: option "storage" must be a session storage with read() ` +
        `and save(), such as createMemorySessionStorage(), got ` +
        `${describeValue(storage)}.`,
    );
  }
}

// Duck-typed rather than `instanceof`, because @hono/node-server replaces the
// global Response class with its own.
function isResponse(value: unknown): value is Response {
  return typeof value === "object" && value !== null &&
    typeof (value as Response).status === "number" &&
    isHeaders((value as Response).headers);
}

function isHeaders(value: unknown): value is Headers {
  return typeof value === "object" && value !== null &&
    typeof (value as Headers).append === "function" &&
    typeof (value as Headers).getSetCookie === "function";
}
