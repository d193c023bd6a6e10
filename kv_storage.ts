/**
 * A session store that keeps sessions in Deno KV: a local SQLite file on one
 * machine, or a database shared by every region on Deno Deploy. Every
 * process that opens the same database sees the same sessions, so no sticky
 * sessions are needed.
 *
 * The store takes an open database: a `Deno.Kv` from `Deno.openKv()` (run
 * Deno with `--unstable-kv` outside Deno Deploy), or, under Node and Bun, the
 * `Kv` of the `@deno/kv` package.
 *
 * @example
 * ```ts
 * import { createKvSessionStorage } from "@x/session/kv-storage";
 *
 * export async function openSessionStorage() {
 *   const kv = await Deno.openKv();
 *   return createKvSessionStorage(kv, { ttl: 86400 });
 * }
 * ```
 *
 * @module
 */

import type {
  ServerSessionStorageOptions,
  SessionIndex,
  SessionStorage,
} from "./session.ts";
import { describeValue } from "./_describe.ts";
import {
  createServerSessionStorage,
  setUpStore,
  sleep,
} from "./_server_storage.ts";

/**
 * One part of a Deno KV key. Symbols, which Deno KV also allows, cannot
 * cross process boundaries and are not accepted in a prefix.
 *
 * @example
 * ```ts
 * import type { KvKeyPart } from "@x/session/kv-storage";
 *
 * const parts: KvKeyPart[] = ["app", 2, true];
 * ```
 */
export type KvKeyPart = Uint8Array | string | number | bigint | boolean;

/**
 * A Deno KV key: a list of parts.
 *
 * @example
 * ```ts
 * import type { KvKey } from "@x/session/kv-storage";
 *
 * const prefix: KvKey = ["shop", "sessions"];
 * ```
 */
export type KvKey = readonly KvKeyPart[];

/**
 * A check an atomic commit makes: that `key` still has `versionstamp`, or,
 * when it is `null`, that `key` has no entry. `Deno.AtomicCheck` is one.
 *
 * @example
 * ```ts
 * import type { KvSessionCheck } from "@x/session/kv-storage";
 *
 * const mustBeNew: KvSessionCheck = { key: ["session", "id"], versionstamp: null };
 * ```
 */
export interface KvSessionCheck {
  /** The key checked. */
  key: KvKey;
  /** The versionstamp it must have, or `null` for "no entry". */
  versionstamp: string | null;
}

/**
 * The operations the store queues in one atomic commit. `Deno.AtomicOperation`
 * is one.
 *
 * @example What a save after `regenerateId(true)` commits
 * ```ts
 * import type { KvSessionAtomic } from "@x/session/kv-storage";
 *
 * export async function move(
 *   atomic: KvSessionAtomic,
 *   record: Uint8Array,
 *   oldVersionstamp: string,
 * ) {
 *   const { ok } = await atomic
 *     .check({ key: ["session", "new-id"], versionstamp: null })
 *     .check({ key: ["session", "old-id"], versionstamp: oldVersionstamp })
 *     .set(["session", "new-id"], record, { expireIn: 3_600_000 })
 *     .delete(["session", "old-id"])
 *     .commit();
 *   return ok;
 * }
 * ```
 */
export interface KvSessionAtomic {
  /** Makes the commit fail, changing nothing, unless every check holds. */
  check(...checks: KvSessionCheck[]): KvSessionAtomic;
  /** Queues a write of `value` under `key`, deleted `expireIn` ms later. */
  set(
    key: KvKey,
    value: Uint8Array,
    options?: { expireIn?: number },
  ): KvSessionAtomic;
  /** Queues the deletion of `key`. */
  delete(key: KvKey): KvSessionAtomic;
  /**
   * Applies the queued operations together if every check holds; `ok`
   * says whether it did.
   */
  commit(): Promise<{ ok: boolean }>;
}

/**
 * The part of a Deno KV database the store uses. A `Deno.Kv` is one, and so
 * is the `Kv` of the `@deno/kv` npm package, so this module does not depend
 * on Deno's types and type-checks under Node and Bun too.
 *
 * @example Deno KV under Node or Bun, with the `@deno/kv` package
 * ```ts
 * import { openKv } from "@deno/kv";
 * import { createKvSessionStorage } from "@x/session/kv-storage";
 *
 * export async function openSessionStorage(path: string) {
 *   // The store writes only bytes, so no V8 serializer is needed: this also
 *   // runs under Bun, whose serializer @deno/kv refuses.
 *   const unused = () => {
 *     throw new Error("The session store writes only Uint8Array values.");
 *   };
 *   const kv = await openKv(path, { encodeV8: unused, decodeV8: unused });
 *   return createKvSessionStorage(kv);
 * }
 * ```
 */
export interface KvSessionDatabase {
  /**
   * Reads the entry under `key`: its `value` and `versionstamp` are `null`
   * when there is none.
   */
  get(key: KvKey): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Deletes `key`. */
  delete(key: KvKey): Promise<unknown>;
  /** Starts an atomic operation. */
  atomic(): KvSessionAtomic;
  /**
   * The entries whose keys start with `selector.prefix`. Needed only with
   * the `indexBy` option.
   */
  list?(
    selector: { prefix: KvKey },
  ): AsyncIterable<{ value: unknown }>;
}

/**
 * Options for {@linkcode createKvSessionStorage}. Ids longer than 512
 * characters are never adopted, whatever `useUnknownIds` says: Deno KV keys
 * are limited to 2 KiB. With a `ttl`, Deno KV deletes an entry some time
 * after it expires (`expireIn`), and `read` treats it as gone from the
 * moment it expires.
 *
 * @example
 * ```ts
 * import type { KvSessionStorageOptions } from "@x/session/kv-storage";
 *
 * const options: KvSessionStorageOptions = { prefix: ["shop", "session"], ttl: 86400 };
 * ```
 */
export interface KvSessionStorageOptions extends ServerSessionStorageOptions {
  /**
   * The key parts before the session id, so that sessions do not collide
   * with other data in the same database. A session lives under
   * `[...prefix, id]`.
   *
   * @default {["session"]}
   */
  prefix?: KvKey;
}

/**
 * The storage {@linkcode createKvSessionStorage} returns: a
 * {@linkcode SessionStorage} with the per-user {@linkcode SessionIndex},
 * which works when the store was created with `indexBy`.
 *
 * @example
 * ```ts
 * import {
 *   createKvSessionStorage,
 *   type KvSessionStorage,
 * } from "@x/session/kv-storage";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const storage: KvSessionStorage = createKvSessionStorage(kv, {
 *   indexBy: "userId",
 * });
 * assert.deepEqual(await storage.listSessions("mj"), []);
 * kv.close();
 * ```
 */
export interface KvSessionStorage extends SessionStorage, SessionIndex {}

// How many times a commit refused by a busy local database is tried, a
// random moment apart that grows to 50 ms: about a second and a half at most.
const BUSY_TRIES = 40;

/** Deno KV refuses a commit of more mutations than this. */
const MAX_MUTATIONS = 1000;
/** Deno KV refuses values larger than this many bytes. */
const MAX_VALUE_BYTES = 65_536;
// Deno KV keys are limited to 2 KiB; an id this long, in UTF-8, leaves room
// for the prefix.
const MAX_ID_LENGTH = 512;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Creates a session storage that keeps each session under one Deno KV key,
 * `[...prefix, id]`, holding the session as UTF-8 JSON bytes.
 *
 * Every save is one atomic commit that checks the entry's versionstamp is
 * still the one `read` saw, and deletes the old id after
 * `regenerateId(true)` in the same commit (see the README's "Overlapping
 * requests"). A session larger than Deno KV's 64 KiB value
 * limit is refused by `save` with an error that gives its size; keep large
 * data elsewhere and store its id in the session.
 *
 * With `indexBy`, the per-user index is a key per session,
 * `[...prefix, "user", <hash of the user value>, <session handle>]`, holding
 * the id and expiring with the session: one more commit per save of a
 * session that names a user; listing reads that key range and those
 * sessions' keys only. `kv` then needs `list`.
 *
 * @example Counting visits
 * ```ts
 * import { createKvSessionStorage } from "@x/session/kv-storage";
 * import assert from "node:assert/strict";
 *
 * const kv = await Deno.openKv(":memory:");
 * const storage = createKvSessionStorage(kv);
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("count"), 1);
 * kv.close();
 * ```
 *
 * @param kv An open Deno KV database; the store never closes it.
 * @param options The key prefix, how sessions expire and whether unknown ids
 * are adopted.
 * @returns The session storage.
 * @throws {TypeError} When `kv` lacks a method the store needs, or `prefix`
 * is not a list of key parts.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 */
export function createKvSessionStorage(
  kv: KvSessionDatabase,
  options: KvSessionStorageOptions = {},
): KvSessionStorage {
  const { settings, call } = setUpStore(DATABASE, kv, options);
  const prefix = options.prefix ?? ["session"];
  if (!Array.isArray(prefix) || !prefix.every(isKeyPart)) {
    throw new TypeError(
      `${DATABASE.factory}: option "prefix" must be an array of key parts ` +
        "(strings, numbers, bigints, booleans or Uint8Arrays), got " +
        `${describeValue(prefix)}.`,
    );
  }
  const keyOf = (id: string): KvKey => [...prefix, id];
  // Session keys are one part longer than the prefix, index keys three:
  // they never collide.
  const userPrefix = (user: string): KvKey => [...prefix, "user", user];
  // Several processes on one local database file take turns at SQLite's
  // write lock, and a commit that finds it taken fails with "database is
  // locked" having changed nothing: try it again a moment later.
  const operation = <T>(action: string, run: () => Promise<T>) =>
    call(action, async () => {
      for (let tries = 1;; tries++) {
        try {
          return await run();
        } catch (error) {
          const busy = /database is locked/i.test(String(error));
          if (!busy || tries === BUSY_TRIES) throw error;
          await sleep(Math.random() * Math.min(2 ** tries, 50));
        }
      }
    });

  return createServerSessionStorage({
    accepts: (id) => id.length <= MAX_ID_LENGTH,
    async load(id) {
      const { value, versionstamp } = await operation(
        "read a session from Deno KV",
        () => kv.get(keyOf(id)),
      );
      return value instanceof Uint8Array && versionstamp !== null
        ? { text: decoder.decode(value), version: versionstamp }
        : undefined;
    },
    async write({ id, text, expires, expected, oldId, oldExpected }) {
      const bytes = encoder.encode(text);
      if (bytes.byteLength > MAX_VALUE_BYTES) {
        throw new RangeError(
          `${DATABASE.factory}: cannot save a session of ` +
            `${bytes.byteLength} bytes: Deno KV stores at most ` +
            `${MAX_VALUE_BYTES} bytes per value. Keep large data elsewhere, ` +
            "such as a database table or the fs store, and store its id in " +
            "the session.",
        );
      }
      const { ok } = await operation("write a session to Deno KV", () => {
        const atomic = kv.atomic()
          .check({ key: keyOf(id), versionstamp: stamp(expected) })
          .set(keyOf(id), bytes, expireIn(expires));
        if (oldId !== undefined) {
          atomic
            .check({ key: keyOf(oldId), versionstamp: stamp(oldExpected) })
            .delete(keyOf(oldId));
        }
        return atomic.commit();
      });
      return ok;
    },
    delete(ids) {
      return operation("delete a session from Deno KV", () => {
        if (ids.length === 1) return kv.delete(keyOf(ids[0]));
        const atomic = kv.atomic();
        for (const id of ids) atomic.delete(keyOf(id));
        return atomic.commit();
      });
    },
    // Deno KV deletes expired entries lazily; do not leave it to chance, but
    // leave alone a session saved under the same id since.
    discard: (id, version) =>
      operation("delete an expired session from Deno KV", () =>
        kv.atomic()
          .check({ key: keyOf(id), versionstamp: stamp(version) })
          .delete(keyOf(id))
          .commit()),
    index: {
      add: (user, handle, id, expires) =>
        operation("index a session in Deno KV", () =>
          kv.atomic()
            .set(
              [...userPrefix(user), handle],
              encoder.encode(id),
              expireIn(expires),
            )
            .commit()),
      entries: (user) =>
        operation("list a user's sessions in Deno KV", async () => {
          const ids: string[] = [];
          for await (
            const { value } of kv.list!({ prefix: userPrefix(user) })
          ) {
            if (value instanceof Uint8Array) ids.push(decoder.decode(value));
          }
          return ids;
        }),
      remove: async (user, handles) => {
        // A commit takes at most MAX_MUTATIONS; the entries need not go in
        // one.
        for (let at = 0; at < handles.length; at += MAX_MUTATIONS) {
          await operation("unindex a session in Deno KV", () => {
            const atomic = kv.atomic();
            for (const handle of handles.slice(at, at + MAX_MUTATIONS)) {
              atomic.delete([...userPrefix(user), handle]);
            }
            return atomic.commit();
          });
        }
      },
    },
  }, settings);
}

/** The `set` options that make an entry expire at `expires` (Unix ms). */
function expireIn(expires: number | null): { expireIn: number } | undefined {
  return expires === null
    ? undefined
    : { expireIn: Math.max(1, Math.ceil(expires - Date.now())) };
}

/** A version the flow handed back, as the versionstamp a check expects. */
function stamp(version: unknown): string | null {
  return typeof version === "string" ? version : null;
}

function isKeyPart(part: unknown): part is KvKeyPart {
  return typeof part === "string" || typeof part === "number" ||
    typeof part === "bigint" || typeof part === "boolean" ||
    part instanceof Uint8Array;
}

// What the store's errors say about its database.
const DATABASE = {
  factory: "createKvSessionStorage",
  argument: "kv",
  what: "a Deno KV database",
  methods: ["get", "delete", "atomic"],
  index: { methods: ["list"] },
  advice: "Pass the result of `await Deno.openKv()`, or of `openKv()` " +
    "from the @deno/kv package.",
  hint: "Check that the database is open and reachable.",
};
