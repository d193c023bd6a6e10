// Internals shared by the stores: how a session is written down, the ttl
// rule, and option checks. Not part of the public API.

import type { Session, SessionData } from "./session.ts";
import { describeValue } from "./_describe.ts";
import { SessionMemo } from "./_session_internals.ts";

/**
 * A session as a store keeps it. `expires`, `created` and `written` are Unix
 * times in ms: when the record expires (null: never), when its session was
 * created and when the record was written (null in records written before
 * they were kept). `id` is written only by stores that keep the id inside
 * the record.
 */
export interface SessionRecord {
  data: SessionData;
  expires: number | null;
  created: number | null;
  written: number | null;
  id?: string;
}

/** When a record is written: its expiry and its session's creation time. */
export interface RecordTimes {
  expires: number | null;
  created: number;
}

/**
 * Serializes a session's data for storage, with an error that says which
 * value could not be written instead of JSON's bare TypeError.
 */
export function encodeRecord(
  data: SessionData,
  { expires, created }: RecordTimes,
  id?: string,
): string {
  try {
    // The text JSON.stringify({ i, d, e, c, w }) would give, in a third
    // less time: the numbers print as JSON prints them.
    const head = id === undefined ? "{" : `{"i":${JSON.stringify(id)},`;
    return `${head}"d":${JSON.stringify(data)},"e":${expires},"c":${created},` +
      `"w":${Date.now()}}`;
  } catch (error) {
    throw new TypeError(
      "Cannot save the session: its values must be JSON-serializable " +
        `(${(error as Error).message}). Store strings, numbers, booleans, ` +
        "arrays and plain objects.",
      { cause: error },
    );
  }
}

/**
 * Parses what {@linkcode encodeRecord} wrote, or an older record without
 * `c` and `w`; `undefined` for anything else.
 */
export function decodeRecord(text: string): SessionRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  const { i: id, d: data, e: expires, c: created, w: written } = parsed;
  if (!isSessionData(data)) return undefined;
  if (expires !== null && !Number.isFinite(expires)) return undefined;
  if (created !== undefined && !Number.isFinite(created)) return undefined;
  if (written !== undefined && !Number.isFinite(written)) return undefined;
  if (id !== undefined && (typeof id !== "string" || id === "")) {
    return undefined;
  }
  return {
    data,
    expires: expires as number | null,
    created: (created as number | undefined) ?? null,
    written: (written as number | undefined) ?? null,
    id,
  };
}

/** Whether `value` has the `[values, flash]` shape of {@linkcode SessionData}. */
function isSessionData(value: unknown): value is SessionData {
  return Array.isArray(value) && value.length === 2 &&
    isPlainObject(value[0]) && isPlainObject(value[1]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The longest ttl or maxLifetime, about 31,700 years: an expiry this far off
// is still a date JavaScript, Deno KV's expireIn and a bigint column hold;
// a longer one could be Infinity milliseconds, an expiry of "never".
const MAX_SECONDS = 1e12;

/**
 * Validates a duration option given in seconds (`ttl`, `maxLifetime`) and
 * returns it in whole milliseconds (at least 1), or `undefined` when it was
 * not given: expiries are then whole Unix milliseconds, as an integer
 * column (PostgreSQL's bigint) requires.
 */
export function secondsOption(
  factory: string,
  name: "ttl" | "maxLifetime",
  seconds: number | undefined,
): number | undefined {
  if (seconds === undefined) return undefined;
  if (
    typeof seconds !== "number" || !(seconds > 0) || !(seconds <= MAX_SECONDS)
  ) {
    throw new RangeError(
      `${factory}: option "${name}" must be a positive number of seconds, ` +
        `at most 1e12 (about 31,700 years), got ${describeValue(seconds)}. ` +
        "Omit it for sessions that never expire.",
    );
  }
  return Math.max(1, Math.round(seconds * 1000));
}

/** What an {@linkcode Expiry} remembers of a session it read or wrote. */
interface Remembered {
  owner: SessionMemo<Remembered>;
  expires: number | null;
  created: number;
  /**
   * The id the session was read under, or last written under by a
   * server-side store; none for a session neither.
   */
  id?: string;
  /**
   * The version of the record it was read from; `undefined` once the
   * session was written, whose new version the store does not tell.
   */
  version?: unknown;
}

type ReadRecord = { id: string; version: unknown };

/**
 * How the sessions of one store expire: an idle `ttl`, an absolute
 * `maxLifetime` counted from a session's creation, both in milliseconds,
 * either or both `undefined`. It remembers, for each session a store read,
 * when its record expires and when the session was created, so that `save`
 * keeps the creation time (through `regenerateId` too) and renews sessions
 * that are in use but unchanged.
 *
 * The renewal rule: an unchanged session is written again once a write would
 * push its expiry more than half a ttl later. A session in use therefore
 * never idles out, yet a burst of requests costs one write, not one per
 * request, and one near its `maxLifetime`, whose expiry a write can no
 * longer push, is not written on every request.
 *
 * The rule for records written before an option was on: once a `ttl` or a
 * `maxLifetime` is set, a record without an expiry (written while neither
 * was) is expired, and under a `maxLifetime` so is a record without a
 * creation time (written by a release that kept none). Nobody knows how long
 * such a record has been idle or alive, and a cookie store cannot remember
 * when it first saw one, so no grace period could be bounded: turning an
 * option on ends those sessions once, and no record lives forever. It also
 * keeps sweeps simple: under either option, a record without an expiry is
 * one to delete.
 */
export class Expiry {
  #ttl: number | undefined;
  #maxLifetime: number | undefined;
  #memo = new SessionMemo<Remembered>();

  constructor(ttl: number | undefined, maxLifetime?: number) {
    this.#ttl = ttl;
    this.#maxLifetime = maxLifetime;
  }

  /** Whether a record read now is live, by the rules above. */
  isLive(record: Pick<SessionRecord, "expires" | "created">): boolean {
    const now = Date.now();
    if (record.expires !== null && record.expires <= now) return false;
    if (record.expires === null && this.bounded) return false;
    if (this.#maxLifetime === undefined) return true;
    return record.created !== null && record.created + this.#maxLifetime > now;
  }

  /** Whether sessions expire at all: a `ttl` or a `maxLifetime` is set. */
  get bounded(): boolean {
    return this.#ttl !== undefined || this.#maxLifetime !== undefined;
  }

  /** Whether a stored expiry has passed. */
  isPast(expires: number | null): boolean {
    return expires !== null && expires <= Date.now();
  }

  /**
   * Records the times of the record a session was read from and, for a
   * server-side store, the id and version it was read under.
   */
  remember(
    session: Session,
    record: SessionRecord,
    id?: string,
    version?: unknown,
  ): void {
    this.#memo.set(session, {
      owner: this.#memo,
      expires: record.expires,
      created: record.created ?? Date.now(),
      id,
      version,
    });
  }

  /** The id and version `remember` was given for `session`, if any. */
  readOf(session: Session): { id: string; version: unknown } | undefined {
    const memo = this.#memo.get(session);
    return memo?.id === undefined ? undefined : memo as ReadRecord;
  }

  /**
   * The times to write `session` with now: its creation time (now for a
   * session never written) and the expiry that follows from it.
   */
  timesFor(session: Session): RecordTimes {
    const created = this.#memo.get(session)?.created ?? Date.now();
    return { created, expires: this.#expiresFor(created) };
  }

  /**
   * Records the times `session` was just written with and, for a
   * server-side store, the id it was written under.
   */
  written(session: Session, times: RecordTimes, id?: string): void {
    const memo = this.#memo.get(session);
    if (memo === undefined) {
      this.#memo.set(session, { owner: this.#memo, ...times, id });
    } else {
      memo.expires = times.expires;
      memo.created = times.created;
      if (id !== undefined) [memo.id, memo.version] = [id, undefined];
    }
  }

  /** Whether `save` must write the session: it changed, or it needs renewal. */
  mustWrite(session: Session): boolean {
    if (session.dirty) return true;
    const read = this.#memo.get(session);
    if (read?.expires == null || this.#ttl === undefined) return false;
    return this.#expiresFor(read.created)! - read.expires > this.#ttl / 2;
  }

  #expiresFor(created: number): number | null {
    const idle = this.#ttl === undefined ? Infinity : Date.now() + this.#ttl;
    const end = this.#maxLifetime === undefined
      ? Infinity
      : created + this.#maxLifetime;
    const expires = Math.min(idle, end);
    return expires === Infinity ? null : expires;
  }
}
