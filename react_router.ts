/**
 * Sessions for [React Router](https://reactrouter.com) apps:
 * {@linkcode createReactRouterSessionStorage} gives React Router's session
 * storage API (`getSession`, `commitSession`, `destroySession`) over any of
 * this package's stores and cookies.
 *
 * @example In a loader
 * ```ts
 * import { createReactRouterSessionStorage } from "@x/session/react-router";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const { getSession, commitSession } = createReactRouterSessionStorage({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * });
 *
 * export async function loader({ request }: { request: Request }) {
 *   const session = await getSession(request.headers.get("Cookie"));
 *   const visits = Number(session.get("visits") ?? 0) + 1;
 *   session.set("visits", visits);
 *   return Response.json({ visits }, {
 *     headers: { "Set-Cookie": await commitSession(session) },
 *   });
 * }
 * ```
 *
 * @module
 */

import type { CookieAttributes } from "./cookie.ts";
import type { SessionMiddlewareOptions } from "./middleware.ts";
import type { Session, SessionValues } from "./session.ts";
import { checkSessionOptions } from "./_adapter.ts";
import { describeValue } from "./_describe.ts";

export type { SessionMiddlewareOptions } from "./middleware.ts";

/**
 * Cookie attributes that `commitSession` and `destroySession` take for one
 * response, such as a longer `maxAge` for "remember me". They change only
 * the cookie, not how long the store keeps the session. Attributes React
 * Router spells differently from this package, such as `sameSite`, come
 * from the cookie alone.
 *
 * @example
 * ```ts
 * import type { ReactRouterCookieOverrides } from "@x/session/react-router";
 *
 * const rememberMe: ReactRouterCookieOverrides = { maxAge: 60 * 60 * 24 * 30 };
 * ```
 */
export type ReactRouterCookieOverrides = Pick<
  CookieAttributes,
  "domain" | "path" | "maxAge" | "expires" | "httpOnly" | "secure"
>;

/**
 * React Router's session storage API, over a {@linkcode SessionStorage}
 * and a cookie. It fits React Router's own `SessionStorage` type (with its
 * default, untyped session data). `commitSession` and `destroySession`
 * take an `object` so that it does, and refuse, at run time, a session that
 * did not come from this storage's `getSession`.
 *
 * @example
 * ```ts
 * import type { SessionStorage } from "react-router";
 * import {
 *   createReactRouterSessionStorage,
 *   type ReactRouterSessionStorage,
 * } from "@x/session/react-router";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const sessions: ReactRouterSessionStorage = createReactRouterSessionStorage({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * });
 * const fits: SessionStorage = sessions;
 * ```
 *
 * @typeParam Data The values the session holds.
 * @typeParam FlashData The flash values the session holds.
 */
export interface ReactRouterSessionStorage<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
> {
  /**
   * Reads the session of a `Cookie` header: the session its cookie points
   * to, or a new session when the cookie is missing, forged or unknown.
   */
  getSession(cookieHeader?: string | null): Promise<Session<Data, FlashData>>;
  /**
   * Saves the session and returns the `Set-Cookie` header to send with the
   * response. For a session that did not change, that is `""`, since the
   * client's cookie can stay as it is (browsers ignore an empty
   * `Set-Cookie`), unless `options` gives attributes: then its cookie is
   * sent again with them, if it still leads to a stored session.
   */
  commitSession(
    session: Session<Data, FlashData> | object,
    options?: ReactRouterCookieOverrides,
  ): Promise<string>;
  /**
   * Destroys the session, deleting its data from the store, and returns
   * the `Set-Cookie` header that clears the client's cookie.
   */
  destroySession(
    session: Session<Data, FlashData> | object,
    options?: ReactRouterCookieOverrides,
  ): Promise<string>;
}

/**
 * Creates React Router's session storage API over a store and a cookie of
 * this package, so that a React Router app's loaders and actions keep
 * sessions in any store (memory, files, cookie, Redis, Deno KV, or an
 * express-session store through `fromExpressStore`).
 *
 * The sessions it gives are this package's {@linkcode Session}s, which
 * React Router's `isSession` accepts: `get`, `set`, `has`, `unset`, `flash`
 * and `id` work as React Router documents them, and additionally
 * `regenerateId()` guards a login against session fixation. Their `data`
 * is the `[values, flash]` pair this package stores, not React Router's
 * flat object.
 *
 * @example A login action
 * ```ts
 * import { createReactRouterSessionStorage } from "@x/session/react-router";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const { getSession, commitSession } = createReactRouterSessionStorage({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * });
 *
 * async function action({ request }: { request: Request }) {
 *   const session = await getSession(request.headers.get("Cookie"));
 *   session.regenerateId(true);
 *   session.set("userId", "mj");
 *   return new Response(null, {
 *     status: 303,
 *     headers: { Location: "/", "Set-Cookie": await commitSession(session) },
 *   });
 * }
 *
 * const response = await action({
 *   request: new Request("http://localhost/login", { method: "POST" }),
 * });
 * const cookie = response.headers.get("Set-Cookie")!.split(";")[0];
 * assert.equal((await getSession(cookie)).get("userId"), "mj");
 * ```
 *
 * @typeParam Data The values the session holds.
 * @typeParam FlashData The flash values the session holds.
 * @param options The session cookie and the storage.
 * @returns `getSession`, `commitSession` and `destroySession`.
 * @throws {TypeError} When the cookie is not signed or is chunked, or the
 * storage is not a session storage.
 */
export function createReactRouterSessionStorage<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
>(
  options: SessionMiddlewareOptions,
): ReactRouterSessionStorage<Data, FlashData> {
  checkSessionOptions("createReactRouterSessionStorage", options);
  const { cookie, storage } = options;
  if (cookie.chunked === true) {
    throw new TypeError(
      `createReactRouterSessionStorage: option "cookie" is the chunked ` +
        `cookie "${cookie.name}", but commitSession returns one Set-Cookie ` +
        "header, which cannot carry several cookies. Create the cookie " +
        'without option "chunked", or keep the data in a server-side store.',
    );
  }
  // The cookie value each session this storage read came from. Saving any
  // other object would fail later, in the store, with a less clear error.
  const readFrom = new WeakMap<Session, string | null>();

  function check(caller: string, session: object): asserts session is Session {
    if (!readFrom.has(session as Session)) {
      throw new TypeError(
        `${caller}: argument "session" must be a session from this ` +
          `storage's getSession(), got ${describeValue(session)}.`,
      );
    }
  }

  return {
    async getSession(cookieHeader) {
      const value = await cookie.parse(cookieHeader ?? null);
      const session = await storage.read(value);
      readFrom.set(session, value);
      return session as Session<Data, FlashData>;
    },

    async commitSession(session, overrides) {
      check("commitSession", session);
      const attributes = defined(overrides);
      let value = await storage.save(session);
      // An unchanged session keeps its cookie, but attributes given for this
      // response must reach the client: its cookie is sent again with them
      // while it still leads to this session (not after a logout meanwhile).
      const sent = readFrom.get(session);
      if (value === null && Object.keys(attributes).length > 0 && sent) {
        const current = await storage.read(sent);
        if (current.id === session.id) value = sent;
      }
      if (value === null) return "";
      if (value === "") return await clearingCookie(overrides);
      return await cookie.serialize(value, attributes);
    },

    async destroySession(session, overrides) {
      check("destroySession", session);
      session.destroy();
      await storage.save(session);
      return await clearingCookie(overrides);
    },
  };

  function clearingCookie(overrides?: ReactRouterCookieOverrides) {
    return cookie.serialize("", {
      ...defined(overrides),
      maxAge: 0,
      expires: new Date(0),
    });
  }
}

// The attributes that were given, so that an `undefined` does not erase the
// cookie's own.
function defined(
  overrides: ReactRouterCookieOverrides | undefined,
): ReactRouterCookieOverrides {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value !== undefined) out[key] = value;
  }
  return out;
}
