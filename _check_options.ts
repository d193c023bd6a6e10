// Checks the framework adapters share: their options when they are created,
// so that a wrong cookie or storage fails at startup rather than on every
// request, and a request that already has a session. Not part of the public
// API.

import { type SessionMiddlewareOptions, withSession } from "./middleware.ts";
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
 * Throws when `earlier`, what the request's session variable (`slot`, such
 * as `req.session`) holds before the middleware sets it, is not undefined:
 * another session middleware ran before this one on the request. Two would
 * each save a session of their own, while the handlers saw only the one
 * that ran last, which depends on the order and paths they are mounted on.
 */
export function checkNoEarlierSession(slot: string, earlier: unknown): void {
  if (earlier === undefined) return;
  throw new Error(
    `sessionMiddleware: this request already has ${slot} ` +
      `(${describeValue(earlier)}) from a session middleware that ran ` +
      "before this one: the handlers would see only the session of the " +
      "one that runs last. Run one session middleware per request: remove " +
      "the one mounted twice, or, for an area with a session cookie of its " +
      "own, keep the other session middleware off that area's paths.",
  );
}
