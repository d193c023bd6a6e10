/**
 * The {@linkcode Session} a request works with, and the
 * {@linkcode SessionStorage} contract every store implements.
 *
 * @example Reading and writing values
 * ```ts
 * import { createSession } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const session = createSession();
 * session.set("userId", "mj");
 * assert.equal(session.get("userId"), "mj");
 * ```
 *
 * @module
 */

import { encodeBase64url } from "./_base64url.ts";
import { describeValue } from "./_describe.ts";
import { provideSessionInternals } from "./_session_internals.ts";

/**
 * The shape of the values a session holds: plain, JSON-serializable data.
 *
 * @example Typing a session's values
 * ```ts
 * import { createSession, type SessionValues } from "@x/session/session";
 *
 * interface User extends SessionValues {
 *   userId: string;
 * }
 * const session = createSession<User>();
 * session.set("userId", "mj");
 * ```
 */
export type SessionValues = Record<string, unknown>;

/**
 * The `[values, flash]` pair that a store persists for a session: the
 * session's values and the flash values the next request will see.
 *
 * @example
 * ```ts
 * import type { SessionData } from "@x/session/session";
 *
 * const data: SessionData = [{ userId: "mj" }, { message: "Welcome back" }];
 * ```
 */
export type SessionData<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
> = [Data, FlashData];

/**
 * Where sessions live between requests. `read` turns the value of the
 * client's cookie into a {@linkcode Session}; `save` persists it and says what
 * the client's cookie must become.
 *
 * Beyond the two methods' own documentation, every store keeps these rules,
 * which the conformance suite (`@x/session/conformance`) checks:
 * - New sessions get ids no one can guess, and `read` never adopts a cookie
 *   value no `save` returned as the id (a server-side store by default; an
 *   option such as `useUnknownIds` may allow it).
 * - `save` resolves to `null` when the session did not change and no renewal
 *   is due, so an untouched request sends no cookie.
 * - `save` writes the session under its current `id`, deletes the record of
 *   `deleteId` when set (destroyed or not), and keeps the old id's record
 *   otherwise, for clients that retry with it.
 * - Values read back exactly as JSON wrote them, flash values reach exactly
 *   the next request, and no two reads, nor a read and a saved session,
 *   share an object.
 * - A save is atomic: a read meanwhile sees the old or the new record, and
 *   overlapping saves of one session never leave a mix of them.
 * - A store with a ttl ends a session unused for that long, and renews one
 *   in use: after any `save`, changed or not, the session lives at least
 *   half its ttl.
 *
 * @example A storage used for one request
 * ```ts
 * import type { SessionStorage } from "@x/session/session";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const storage: SessionStorage = createMemorySessionStorage();
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookieValue = await storage.save(session); // the session id
 * ```
 */
export interface SessionStorage {
  /**
   * Returns the session the cookie value points to, or a new session when
   * the value is missing, unknown, expired or malformed. Never rejects
   * because of what a client sent.
   */
  read(cookie: string | null): Promise<Session>;
  /**
   * Persists the session. Resolves to the cookie value to send, to `""` when
   * the session was destroyed (the client's cookie must be cleared), or to
   * `null` when the client's cookie can stay as it is.
   */
  save(session: Session): Promise<string | null>;
}

/**
 * The options every server-side store takes: the memory, fs, Redis and
 * Deno KV stores' option types extend it.
 *
 * @example
 * ```ts
 * import type { ServerSessionStorageOptions } from "@x/session/session";
 *
 * const options: ServerSessionStorageOptions = { ttl: 86400 };
 * ```
 */
export interface ServerSessionStorageOptions {
  /**
   * Whether `read` adopts an id the store does not hold instead of starting
   * a session with a new id. Leave it `false`: adopting ids a client chose
   * opens the door to session fixation.
   *
   * @default {false}
   */
  useUnknownIds?: boolean;
  /**
   * Seconds of inactivity after which a session is gone. Every save renews
   * it, and an unchanged session is saved again once less than half of its
   * ttl is left, so a session in use never expires.
   *
   * @default {undefined} (sessions never expire)
   */
  ttl?: number;
  /**
   * Seconds after its creation at which a session ends, however active it
   * is; `regenerateId` keeps the creation time, so a login does not restart
   * the clock unless the app starts a new session. The idle `ttl` still
   * applies.
   *
   * Once `ttl` or `maxLifetime` is set, a session stored while neither was
   * (its record has no expiry) reads as a new session, and so, under
   * `maxLifetime`, does one whose record holds no creation time (written by
   * a release that kept none): turning either option on ends those sessions
   * once, so that none lives forever.
   *
   * @default {undefined} (no absolute limit)
   */
  maxLifetime?: number;
  /**
   * The session value that names the session's user, such as `"userId"`:
   * the store then keeps a per-user index of sessions, read through
   * {@linkcode SessionIndex}. Only string and number values are indexed.
   *
   * @default {undefined} (no index: the index methods reject)
   */
  indexBy?: string;
}

/**
 * One live session of a user, as {@linkcode SessionIndex.listSessions}
 * lists it. Times are Unix times in milliseconds.
 *
 * @example
 * ```ts
 * import type { ListedSession } from "@x/session/session";
 *
 * const listed: ListedSession = {
 *   handle: "l3Q8mYt2bqg7L0b0GpWZ0p3Qz7r2mYt2bqg7L0b0GpW",
 *   createdAt: Date.now() - 60_000,
 *   lastSeenAt: Date.now(),
 *   expiresAt: null,
 * };
 * ```
 */
export interface ListedSession {
  /**
   * Names the session without being its id (a hash of it): safe to put in
   * a page, and what {@linkcode SessionIndex.destroySession} takes.
   */
  handle: string;
  /**
   * When the session was created (`regenerateId` keeps it), or `null` for a
   * record written by a release that kept no creation time.
   */
  createdAt: number | null;
  /**
   * When the session was last saved, or `null` for a record written before
   * this was kept. A request that changes nothing saves only to renew the
   * ttl, so this lags by up to half a ttl for such requests.
   */
  lastSeenAt: number | null;
  /** When the session expires unless used again, or `null` for never. */
  expiresAt: number | null;
}

/**
 * The per-user session index of the server-side stores created with the
 * `indexBy` option: list a user's sessions and end them ("log out my other
 * devices"). Listing and ending touch that user's sessions only. Every
 * method rejects with an error naming the option when the store was
 * created without `indexBy`.
 *
 * @example Logging out a user's other devices
 * ```ts
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createMemorySessionStorage({ indexBy: "userId" });
 * const laptop = await storage.read(null);
 * laptop.set("userId", "mj");
 * await storage.save(laptop);
 * const phone = await storage.read(null);
 * phone.set("userId", "mj");
 * const phoneCookie = await storage.save(phone);
 *
 * assert.equal((await storage.listSessions("mj")).length, 2);
 * assert.equal(await storage.destroySessions("mj", { except: laptop }), 1);
 * assert.equal((await storage.read(phoneCookie)).get("userId"), undefined);
 * ```
 *
 * @typeParam S The sessions the storage reads: {@linkcode Session} unless
 * said otherwise, as the conformance suite does for a store's own type.
 */
export interface SessionIndex<S = Session> {
  /**
   * Resolves to one entry per live session whose `indexBy` value is
   * `user`, oldest first. Each entry is checked against its record: a
   * session that ended, expired or changed user is left out, and its stale
   * entry dropped.
   */
  listSessions(user: string | number): Promise<ListedSession[]>;
  /**
   * Ends every live session of `user` but `except` (a session, or a
   * handle), and resolves to how many it ended.
   */
  destroySessions(
    user: string | number,
    options?: { except?: S | string },
  ): Promise<number>;
  /**
   * Ends the session of `user` that `handle` names, and resolves to whether
   * there was one. A handle of another user's session ends nothing, so an
   * app can take the handle from a form without checking it.
   */
  destroySession(user: string | number, handle: string): Promise<boolean>;
  /** The handle that {@linkcode SessionIndex.listSessions} gives `session`. */
  handleOf(session: S): string;
}

/**
 * What one request did to a {@linkcode Session}, as
 * {@linkcode Session.changes} reports it. A store that saves by
 * compare-and-set uses it, through {@linkcode Session.mergeOnto}, to apply a
 * request's changes onto a record another request saved in the meantime.
 *
 * @example
 * ```ts
 * import { createSession, type SessionChanges } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const session = createSession("id", [{ cart: 1, theme: "dark" }, {}]);
 * session.set("cart", 2);
 * session.unset("theme");
 * const changes: SessionChanges = session.changes;
 * assert.deepEqual([...changes.set], [["cart", 2]]);
 * assert.deepEqual([...changes.unset], ["theme"]);
 * ```
 */
export interface SessionChanges {
  /** The keys set in this request, each with the value it holds now. */
  readonly set: ReadonlyMap<string, unknown>;
  /** The keys unset (or set to `null` or `undefined`) in this request. */
  readonly unset: ReadonlySet<string>;
  /** The flash values this request added for the next request. */
  readonly flashed: ReadonlyMap<string, unknown>;
  /**
   * The flash values the session held when it was read: this request was
   * the one to see them, so they are gone after it.
   */
  readonly consumedFlash: ReadonlyMap<string, unknown>;
  /** Whether {@linkcode Session.destroy} was called. */
  readonly destroyed: boolean;
  /** Whether {@linkcode Session.regenerateId} was called. */
  readonly regenerated: boolean;
}

/**
 * A session persists data for one client across requests.
 *
 * Values set with {@linkcode Session.set} last until they are unset or the
 * session ends. Values set with {@linkcode Session.flash} are invisible in the
 * request that sets them, visible in exactly the next request that reads the
 * session, and gone after that.
 *
 * @example Flash values live for exactly one next request
 * ```ts
 * import { Session } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const first = new Session();
 * first.flash("message", "Saved!");
 * assert.equal(first.get("message"), undefined);
 *
 * const next = new Session(first.id, first.data);
 * assert.equal(next.get("message"), "Saved!");
 * assert.equal(new Session(next.id, next.data).get("message"), undefined);
 * ```
 *
 * @typeParam Data The values the session holds.
 * @typeParam FlashData The flash values the session holds.
 */
export class Session<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
> {
  #originalId: string;
  #id: string;
  #deleteOriginal = false;
  // Plain objects of this session's own, not Maps: a store builds them by
  // JSON.parse and JSON.stringify writes them, at no cost of conversion.
  // Read through Object.hasOwn only, so that inherited names are no values.
  #values: SessionValues;
  #flash: SessionValues;
  #nextFlash: SessionValues | undefined = undefined;
  #changedKeys = new Set<string>();
  #destroyed = false;
  #dirty: boolean;
  // What the store that read the session remembers of it
  // (_session_internals.ts).
  #memo: unknown = undefined;

  static {
    provideSessionInternals({
      getMemo: (session) => #memo in session ? session.#memo : undefined,
      setMemo: (session, memo) =>
        #memo in session && (session.#memo = memo, true),
      adopt: (id, data) => {
        adopting = true;
        try {
          return new Session(id, data);
        } finally {
          adopting = false;
        }
      },
    });
  }

  /**
   * Creates a session. Stores call this with what they read back;
   * applications get sessions from a store's `read`.
   *
   * @param id The session id; a new random one when omitted.
   * @param initialData The `[values, flash]` pair a store read back.
   */
  constructor(
    id: string = createSessionId(),
    initialData?: SessionData<Data, FlashData>,
  ) {
    this.#originalId = id;
    this.#id = id;
    this.#values = adopting ? initialData![0] : copyOf(initialData?.[0]);
    this.#flash = adopting ? initialData![1] : copyOf(initialData?.[1]);
    // Flash values must be gone after this request, so saving has work to do
    // even when the request changes nothing else.
    this.#dirty = hasKeys(this.#flash);
  }

  /** The session id. It changes when {@linkcode Session.regenerateId} is called. */
  get id(): string {
    return this.#id;
  }

  /**
   * The `[values, flash]` pair a store persists: the current values and the
   * flash values set in this request, for the next one. Each call returns new
   * objects. An application reads values with {@linkcode Session.get}.
   */
  get data(): SessionData<Data, FlashData> {
    if (this.#destroyed) return [{}, {}] as SessionData<Data, FlashData>;
    // Spread copies own properties as data, "__proto__" included.
    return [
      { ...this.#values },
      { ...this.#nextFlash },
    ] as SessionData<Data, FlashData>;
  }

  /**
   * The id whose stored data `save` must delete: the original id after
   * `regenerateId(true)`, or after the session was destroyed once its id had
   * changed. `undefined` otherwise.
   */
  get deleteId(): string | undefined {
    if (this.#id === this.#originalId) return undefined;
    return this.#deleteOriginal || this.#destroyed
      ? this.#originalId
      : undefined;
  }

  /**
   * What this request changed: the keys set and unset, the flash values
   * added and consumed, and whether the session was destroyed or given a new
   * id. A new object on every call, unaffected by later changes.
   *
   * @example
   * ```ts
   * import { createSession } from "@x/session/session";
   * import assert from "node:assert/strict";
   *
   * const session = createSession("id", [{}, { message: "Saved!" }]);
   * session.flash("message", "Deleted");
   * const { flashed, consumedFlash } = session.changes;
   * assert.equal(flashed.get("message"), "Deleted");
   * assert.equal(consumedFlash.get("message"), "Saved!");
   * ```
   */
  get changes(): SessionChanges {
    const set = new Map<string, unknown>();
    const unset = new Set<string>();
    for (const key of this.#changedKeys) {
      if (Object.hasOwn(this.#values, key)) set.set(key, this.#values[key]);
      else unset.add(key);
    }
    return {
      set,
      unset,
      flashed: new Map(Object.entries(this.#nextFlash ?? {})),
      consumedFlash: new Map(Object.entries(this.#flash)),
      destroyed: this.#destroyed,
      regenerated: this.#id !== this.#originalId,
    };
  }

  /**
   * Applies this request's changes onto `stored`, the `[values, flash]` a
   * store holds now, and returns the data to write in its place. A store
   * that finds the record changed since it read it calls this instead of
   * writing {@linkcode Session.data}, so overlapping requests lose no update:
   * a key this request set or unset takes this request's value; every other
   * key keeps the stored value; a stored flash value this request consumed
   * (the same key holding an equal value) is gone; the flash values this
   * request added are added. `stored` is not modified.
   *
   * @example Two overlapping requests, each setting its own key
   * ```ts
   * import { createSession } from "@x/session/session";
   * import assert from "node:assert/strict";
   *
   * type Values = { count: number; theme?: string };
   * const first = createSession<Values>("id", [{ count: 1 }, {}]);
   * const second = createSession<Values>("id", [{ count: 1 }, {}]);
   * first.set("theme", "dark");
   * second.set("count", 2);
   * // The first save wrote first.data; the second applies its change on top.
   * assert.deepEqual(second.mergeOnto(first.data), [
   *   { count: 2, theme: "dark" },
   *   {},
   * ]);
   * ```
   *
   * @param stored The data the store holds now.
   * @returns The data to write.
   */
  mergeOnto(
    stored: SessionData<Data, FlashData>,
  ): SessionData<Data, FlashData> {
    const values = copyOf(stored[0]);
    for (const key of this.#changedKeys) {
      if (Object.hasOwn(this.#values, key)) {
        assign(values, key, this.#values[key]);
      } else delete values[key];
    }
    const flash = copyOf(stored[1]);
    for (const [key, value] of Object.entries(this.#flash)) {
      if (Object.hasOwn(flash, key) && sameJson(flash[key], value)) {
        delete flash[key];
      }
    }
    for (const [key, value] of Object.entries(this.#nextFlash ?? {})) {
      assign(flash, key, value);
    }
    return [values, flash] as SessionData<Data, FlashData>;
  }

  /** Whether the session changed in a way that must be saved. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** Whether {@linkcode Session.destroy} was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** The number of values plus the flash values readable in this request. */
  get size(): number {
    if (this.#destroyed) return 0;
    let size = Object.keys(this.#values).length;
    for (const key of Object.keys(this.#flash)) {
      if (!Object.hasOwn(this.#values, key)) size++;
    }
    return size;
  }

  /**
   * Returns the value stored under `key`, or the flash value set for this
   * request, or `undefined`.
   */
  get<Key extends keyof Data & string>(key: Key): Data[Key] | undefined;
  /** Returns the flash value set for this request under `key`, or `undefined`. */
  get<Key extends keyof FlashData & string>(
    key: Key,
  ): FlashData[Key] | undefined;
  get(key: string): unknown {
    if (this.#destroyed) return undefined;
    if (Object.hasOwn(this.#values, key)) return this.#values[key];
    return Object.hasOwn(this.#flash, key) ? this.#flash[key] : undefined;
  }

  /** Whether a value or a flash value readable in this request is stored under `key`. */
  has(key: (keyof Data | keyof FlashData) & string): boolean {
    if (this.#destroyed) return false;
    return Object.hasOwn(this.#values, key) || Object.hasOwn(this.#flash, key);
  }

  /**
   * Stores `value` under `key`. Setting `null` or `undefined` removes the key.
   * Values are JSON data: strings, finite numbers, booleans, null, arrays
   * and plain objects, which read back as they were set.
   *
   * @throws {Error} When the session was destroyed.
   * @throws {TypeError} When JSON would change or drop part of `value`: a
   * Date, Map, Set, class instance, NaN, Infinity or function, anywhere in
   * it. (A bigint, or an object that contains itself, makes the save reject.)
   */
  set<Key extends keyof Data & string>(
    key: Key,
    value: Data[Key] | null | undefined,
  ): void {
    this.#assertAlive("set", key);
    if (value != null) checkJson("set", key, value);
    if (value == null) delete this.#values[key];
    else assign(this.#values, key, value);
    this.#changedKeys.add(key);
    this.#dirty = true;
  }

  /**
   * Removes the value stored under `key`. A flash value this request reads
   * under `key` stays readable until the request ends, as in
   * `@remix-run/session`.
   *
   * @throws {Error} When the session was destroyed.
   */
  unset(key: keyof Data & string): void {
    this.#assertAlive("unset", key);
    delete this.#values[key];
    this.#changedKeys.add(key);
    this.#dirty = true;
  }

  /**
   * Stores `value` under `key` for the next request only: it is invisible in
   * this request and gone after the next one. Values are JSON data, as
   * for {@linkcode Session.set}.
   *
   * @throws {Error} When the session was destroyed.
   * @throws {TypeError} When JSON would change or drop part of `value`.
   */
  flash<Key extends keyof FlashData & string>(
    key: Key,
    value: FlashData[Key],
  ): void {
    this.#assertAlive("flash", key);
    // Flashing undefined flashes nothing, as it did before values were
    // checked: JSON drops it.
    if (value !== undefined) checkJson("flash", key, value);
    assign(this.#nextFlash ??= {}, key, value);
    this.#dirty = true;
  }

  /**
   * Gives the session a new random id and keeps its data. Call it when
   * privileges change, such as at login, so that an id an attacker planted
   * before (session fixation) is worth nothing after.
   *
   * @param deleteOld Whether `save` deletes the data stored under the
   * original id. Once set, it stays set through further regenerations.
   * Leave it `false` when clients on flaky connections may retry with the
   * old id.
   * @throws {Error} When the session was destroyed.
   */
  regenerateId(deleteOld = false): void {
    this.#assertAlive("regenerateId");
    this.#deleteOriginal ||= deleteOld;
    this.#id = createSessionId();
    this.#dirty = true;
  }

  /**
   * Ends the session: `save` deletes its data and clears the client's cookie.
   * Reading a destroyed session gives nothing and changing it throws.
   */
  destroy(): void {
    this.#destroyed = true;
    this.#dirty = true;
  }

  #assertAlive(method: string, key?: string): void {
    if (!this.#destroyed) return;
    const target = key === undefined ? "" : ` for key "${key}"`;
    throw new Error(
      `Cannot call session.${method}()${target}: the session was destroyed. ` +
        "Read a new session from the storage to store data again.",
    );
  }
}

/**
 * Creates a session.
 *
 * @example
 * ```ts
 * import { createSession } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const session = createSession<{ theme: string }>();
 * session.set("theme", "dark");
 * assert.equal(session.get("theme"), "dark");
 * ```
 *
 * @param id The session id; a new random one when omitted.
 * @param initialData The `[values, flash]` pair a store read back.
 * @returns The new session.
 */
export function createSession<
  Data extends SessionValues = SessionValues,
  FlashData extends SessionValues = SessionValues,
>(
  id?: string,
  initialData?: SessionData<Data, FlashData>,
): Session<Data, FlashData> {
  return new Session(id, initialData);
}

/**
 * Creates a session id: 192 random bits from `crypto.getRandomValues`,
 * written as 32 base64url characters, which are safe in URLs and cookies.
 *
 * @example
 * ```ts
 * import { createSessionId } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * assert.match(createSessionId(), /^[A-Za-z0-9_-]{32}$/);
 * ```
 *
 * @returns A new session id.
 */
export function createSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return encodeBase64url(bytes);
}

// Set by the stores' constructor (_session_internals.ts) while it runs.
let adopting = false;

/** A copy of `record`'s own enumerable string keys, as plain data. */
function copyOf(record: SessionValues | undefined): SessionValues {
  const copy: SessionValues = {};
  if (record == null) return copy;
  for (const key of Object.keys(record)) assign(copy, key, record[key]);
  return copy;
}

/** Sets `record[key]`, as data: "__proto__" would set the prototype. */
function assign(record: SessionValues, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else record[key] = value;
}

/**
 * Throws when the store would not read `value` back as it is: JSON turns a
 * Date into a string, a Map, a Set or a class instance into a plain object,
 * NaN into null, and drops functions. A bigint, or an object that contains
 * itself, is left to the store's save, which refuses it.
 */
function checkJson(method: string, key: string, value: unknown): void {
  const found = changedByJson(value, "", new Set());
  if (found === undefined) return;
  const [path, bad] = found;
  throw new TypeError(
    `Cannot call session.${method}() for key "${key}": the value${
      path === "" ? "" : ` at ${path.replace(/^\./, "")}`
    } is ${describeValue(bad)}, which would not read back as it is. Store ` +
      "JSON data: strings, finite numbers, booleans, null, arrays and plain " +
      "objects (a Date as date.toISOString() or date.getTime()).",
  );
}

/** Where in `value` JSON would change or drop something, and what. */
function changedByJson(
  value: unknown,
  path: string,
  ancestors: Set<object>,
): [string, unknown] | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "bigint":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : [path, value];
    case "object":
      break;
    default:
      return [path, value];
  }
  if (value === null || ancestors.has(value)) return undefined;
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const found = changedByJson(value[i], `${path}[${i}]`, ancestors);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    // A plain object's prototype is an Object.prototype, of any realm.
    const prototype = Object.getPrototypeOf(value);
    if (prototype !== null && Object.getPrototypeOf(prototype) !== null) {
      return [path, value];
    }
    for (const [name, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const found = changedByJson(item, `${path}.${name}`, ancestors);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    ancestors.delete(value);
  }
}

function hasKeys(record: SessionValues): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
