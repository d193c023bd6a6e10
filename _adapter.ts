// What the framework adapters (Hono, Express, React Router) share beyond
// middleware.ts: a check of their options when they are created, so that a
// wrong cookie or storage fails at startup rather than on every request, and
// the steps around the handler, so that each adapter only moves a session
// and headers between middleware.ts and its framework. Not part of the
// public API.

import {
  commitSession,
  readSession,
  type SessionMiddlewareOptions,
  withSession,
} from "./middleware.ts";
import type { Session } from "./session.ts";
import { describeValue } from "./_describe.ts";

/**
 * Throws the TypeError `withSession` would, naming `caller` instead: an
 * unsigned cookie, or a storage without `read` and `save`.
 */
export function checkSessionOptions(
  caller: string,
  options: SessionMiddlewareOptions,
): void {
  try {
    withSession(options, () => new Response());
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    throw new TypeError(error.message.replace(/^withSession:/, `${caller}:`));
  }
}

/**
 * Reads the request's session for a middleware. Throws when `earlier`, what
 * the request's session variable (`slot`, such as `req.session`) holds
 * before the middleware sets it, is not undefined: another session
 * middleware ran before this one on the request. Two would each save a
 * session of their own, while the handlers saw only the one that ran last,
 * which depends on the order and paths they are mounted on.
 */
export async function openSession(
  request: Request,
  slot: string,
  earlier: unknown,
  options: SessionMiddlewareOptions,
): Promise<Session> {
  if (earlier === undefined) return await readSession(request, options);
  throw new Error(
    `sessionMiddleware: this request already has ${slot} ` +
      `(${describeValue(earlier)}) from a session middleware that ran ` +
      "before this one: the handlers would see only the session of the " +
      "one that runs last. Run one session middleware per request: remove " +
      "the one mounted twice, or, for an area with a session cookie of its " +
      "own, keep the other session middleware off that area's paths.",
  );
}

/** What an adapter sends after the handler, from {@linkcode closeSession}. */
export interface SessionHeaders {
  /** The response's new Set-Cookie headers, all of them, when they changed. */
  setCookies: string[] | undefined;
  /** The response's new Cache-Control, when it changed. */
  cacheControl: string | undefined;
}

/**
 * Commits `session` onto `headers`, the adapter's own mutable copy of at
 * least the response's Set-Cookie and Cache-Control headers (a copy of a
 * Response's headers made with `copyHeaders`, which keeps the record of the
 * session cookies commits put there), and answers what the adapter must
 * change in its framework's response.
 */
export async function closeSession(
  session: Session,
  headers: Headers,
  options: SessionMiddlewareOptions,
): Promise<SessionHeaders> {
  const before = headers.getSetCookie();
  const cacheControlBefore = headers.get("Cache-Control");
  await commitSession(session, headers, options);
  const setCookies = headers.getSetCookie();
  const cacheControl = headers.get("Cache-Control");
  return {
    setCookies: setCookies.length === before.length &&
        setCookies.every((header, i) => header === before[i])
      ? undefined
      : setCookies,
    cacheControl: cacheControl === cacheControlBefore
      ? undefined
      : cacheControl ?? undefined,
  };
}
