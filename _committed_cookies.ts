// Which session's commit put which session cookie on a Headers object, kept
// by middleware.ts's commitSession and carried over to the copies of the
// headers it and the framework adapters make. A second Session object of the
// same request committed onto the same headers must not take the first one's
// cookie for one the handler set itself, which it would leave in place
// without a word. Not part of the public API.

import type { Session } from "./session.ts";

/** A session cookie that commitSession put on a Headers object. */
export interface CommittedCookie {
  /** The cookie's name. */
  name: string;
  /** The session committed. */
  session: Session;
  /** The cookie value its storage's save returned. */
  value: string;
  /** The Set-Cookie headers added, several for a chunked cookie. */
  setCookies: string[];
}

/** The session cookies commitSession put on each Headers object. */
export const committedCookies: WeakMap<Headers, CommittedCookie[]> =
  new WeakMap();

/** A copy of `headers` that knows which session cookies they carry. */
export function copyHeaders(headers: Headers): Headers {
  const copy = new Headers(headers);
  const committed = committedCookies.get(headers);
  if (committed !== undefined) committedCookies.set(copy, committed);
  return copy;
}
