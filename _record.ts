// Internals shared by the stores: how a session is written down, the ttl
// rule, and option checks. Not part of the public API.

import type { Session, SessionData } from "./session.ts";

/**
 * A session as a store keeps it. `expires` is a Unix time in ms, or null;
 * `id` is written only by stores that keep the id inside the record.
 */
export interface SessionRecord {
  data: SessionData;
  expires: number | null;
  id?: string;
}

/**
 * Serializes a session's data for storage, with an error that says which
 * value could not be written instead of JSON's bare TypeError.
 */
export function encodeRecord(
  data: SessionData,
  expires: number | null,
  id?: string,
): string {
  try {
    return JSON.stringify({ i: id, d: data, e: expires });
  } catch (error) {
    throw new TypeError(
      "Cannot save the session: its values must be JSON-serializable " +
        `(${(error as Error).message}). Store strings, numbers, booleans, ` +
        "arrays and plain objects.",
      { cause: error },
    );
  }
}

/** Parses what {@linkcode encodeRecord} wrote; `undefined` for anything else. */
export function decodeRecord(text: string): SessionRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  const { i: id, d: data, e: expires } = parsed;
  if (!isSessionData(data)) return undefined;
  if (expires !== null && !Number.isFinite(expires)) return undefined;
  if (id !== undefined && (typeof id !== "string" || id === "")) {
    return undefined;
  }
  return { data, expires: expires as number | null, id };
}

/** Whether `value` has the `[values, flash]` shape of {@linkcode SessionData}. */
function isSessionData(value: unknown): value is SessionData {
  return Array.isArray(value) && value.length === 2 &&
    isPlainObject(value[0]) && isPlainObject(value[1]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates a `ttl` option given in seconds and returns it in milliseconds,
 * or `undefined` when no ttl was given.
 */
export function ttlMilliseconds(
  factory: string,
  ttl: number | undefined,
): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== "number" || !(ttl > 0) || !Number.isFinite(ttl)) {
    throw new RangeError(
      `${factory}: option "ttl" must be a positive number of seconds, ` +
        `got ${String(ttl)}. Omit it for sessions that never expire.`,
    );
  }
  return ttl * 1000;
}

/**
 * Remembers when each session a store read expires, so that `save` can renew
 * sessions that are in use but unchanged.
 *
 * The rule: an unchanged session is written again once less than half of its
 * ttl is left. A session in use therefore never expires, yet a burst of
 * requests costs one write, not one per request.
 */
export class Expiry {
  #ttl: number | undefined;
  #readExpiries = new WeakMap<Session, number>();

  constructor(ttl: number | undefined) {
    this.#ttl = ttl;
  }

  /** When a session saved now expires, or null without a ttl. */
  fromNow(): number | null {
    return this.#ttl === undefined ? null : Date.now() + this.#ttl;
  }

  /** Whether a stored expiry has passed. */
  isPast(expires: number | null): boolean {
    return expires !== null && expires <= Date.now();
  }

  /** Records the expiry a session had when it was read. */
  remember(session: Session, expires: number | null): void {
    if (expires !== null) this.#readExpiries.set(session, expires);
  }

  /** Whether `save` must write the session: it changed, or it needs renewal. */
  mustWrite(session: Session): boolean {
    if (session.dirty) return true;
    const expires = this.#readExpiries.get(session);
    if (expires === undefined || this.#ttl === undefined) return false;
    return expires - Date.now() < this.#ttl / 2;
  }
}
