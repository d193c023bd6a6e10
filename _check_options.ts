// Checks the options of a framework adapter when it is created, so that a
// wrong cookie or storage fails at startup rather than on every request.
// Not part of the public API.

import { type SessionMiddlewareOptions, withSession } from "./middleware.ts";

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
