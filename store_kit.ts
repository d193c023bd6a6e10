/**
 * A kit for writing a server-side session store: the store implements three
 * primitives on its backend (load a record with its version, write one by
 * compare-and-set, delete), and {@linkcode createRecordSessionStorage} turns
 * them into a {@linkcode SessionStorage} with the read and save flow of the
 * built-in memory, fs, Redis and Deno KV stores: ttl and renewal of sessions
 * in use, refusal of ids the store never issued, `regenerateId(true)` and
 * `destroy()`, and overlapping requests that lose no update and never undo a
 * logout. Such a store passes the conformance suite
 * (`@x/session/conformance`) as soon as its primitives keep their contract.
 *
 * @example A store on a Map
 * ```ts
 * import { createRecordSessionStorage } from "@x/session/store-kit";
 * import assert from "node:assert/strict";
 *
 * const records = new Map<string, { text: string; version: number }>();
 * let versions = 0;
 * const storage = createRecordSessionStorage({
 *   load: (id) => records.get(id),
 *   write({ id, text, expected, oldId, oldExpected }) {
 *     if (records.get(id)?.version !== expected) return false;
 *     if (oldId !== undefined) {
 *       if (records.get(oldId)?.version !== oldExpected) return false;
 *       records.delete(oldId);
 *     }
 *     records.set(id, { text, version: ++versions });
 *     return true;
 *   },
 *   delete(ids) {
 *     for (const id of ids) records.delete(id);
 *   },
 * });
 *
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("count"), 1);
 * ```
 *
 * @module
 */

import type {
  ServerSessionStorageOptions,
  SessionIndex,
  SessionStorage,
} from "./session.ts";
import {
  createServerSessionStorage,
  type RecordStore,
  setUpStore,
} from "./_server_storage.ts";

export type {
  LoadedRecord,
  RecordIndex,
  RecordStore,
  RecordWrite,
} from "./_server_storage.ts";
// Re-exported so that the types this module's API mentions are documented
// with it.
export type {
  ServerSessionStorageOptions,
  Session,
  SessionChanges,
  SessionData,
  SessionIndex,
  SessionStorage,
  SessionValues,
} from "./session.ts";

/**
 * The storage {@linkcode createRecordSessionStorage} returns: a
 * {@linkcode SessionStorage} with the per-user {@linkcode SessionIndex},
 * which works when the store has `index` and was created with `indexBy`.
 *
 * @example
 * ```ts
 * import {
 *   createRecordSessionStorage,
 *   type RecordSessionStorage,
 * } from "@x/session/store-kit";
 * import assert from "node:assert/strict";
 *
 * const records = new Map<string, { text: string; version: number }>();
 * const users = new Map<string, Map<string, string>>();
 * let versions = 0;
 * const storage: RecordSessionStorage = createRecordSessionStorage({
 *   load: (id) => records.get(id),
 *   write({ id, text, expected, oldId, oldExpected }) {
 *     if (records.get(id)?.version !== expected) return false;
 *     if (oldId !== undefined) {
 *       if (records.get(oldId)?.version !== oldExpected) return false;
 *       records.delete(oldId);
 *     }
 *     records.set(id, { text, version: ++versions });
 *     return true;
 *   },
 *   delete(ids) {
 *     for (const id of ids) records.delete(id);
 *   },
 *   index: {
 *     add(user, handle, id) {
 *       users.set(user, (users.get(user) ?? new Map()).set(handle, id));
 *     },
 *     entries: (user) => users.get(user)?.values() ?? [],
 *     remove(user, handles) {
 *       for (const handle of handles) users.get(user)?.delete(handle);
 *     },
 *   },
 * }, { indexBy: "userId" });
 *
 * const session = await storage.read(null);
 * session.set("userId", "ada");
 * await storage.save(session);
 * assert.equal((await storage.listSessions("ada")).length, 1);
 * ```
 */
export interface RecordSessionStorage extends SessionStorage, SessionIndex {}

/**
 * Creates a session storage on a store's three primitives. Records are JSON
 * text that holds the session's values, its flash values and its expiry;
 * the store keeps the text as it is and never needs to read it.
 *
 * What the flow does with the primitives: `read` loads the record of the
 * cookie's id and remembers its version; `save` writes the session with
 * `expected` set to that version, and when another save landed in between
 * (`write` answers `false`), loads the newer record, applies this request's
 * changes onto it and tries again, up to 30 times. A record that was read
 * and has since disappeared (destroyed, moved by `regenerateId(true)`,
 * expired) is never written again: that save answers `null`.
 *
 * @example A store on a Map, with a ttl
 * ```ts
 * import { createRecordSessionStorage } from "@x/session/store-kit";
 * import assert from "node:assert/strict";
 *
 * const records = new Map<string, { text: string; version: number }>();
 * let versions = 0;
 * const storage = createRecordSessionStorage({
 *   load: (id) => records.get(id),
 *   write({ id, text, expected, oldId, oldExpected }) {
 *     if (records.get(id)?.version !== expected) return false;
 *     if (oldId !== undefined) {
 *       if (records.get(oldId)?.version !== oldExpected) return false;
 *       records.delete(oldId);
 *     }
 *     records.set(id, { text, version: ++versions });
 *     return true;
 *   },
 *   delete(ids) {
 *     for (const id of ids) records.delete(id);
 *   },
 * }, { ttl: 3600 });
 *
 * const session = await storage.read("an id it never issued");
 * assert.notEqual(session.id, "an id it never issued");
 * ```
 *
 * @param store The primitives: `load`, `write` and `delete`, and optionally
 * `discard` (delete an expired record a read found), `accepts` (whether
 * an id is one the store can hold) and `index` (a per-user index, which
 * `indexBy` needs).
 * @param options `ttl`: seconds of inactivity after which a session is
 * gone; `maxLifetime`: seconds after its creation after which a session is
 * gone, in use or not; `useUnknownIds`: whether `read` adopts an id the
 * store does not hold (leave it `false`); `indexBy`: the session value
 * that the per-user index is keyed by, for a store that has `index`.
 * @returns The session storage.
 * @throws {TypeError} When `store` lacks a primitive, an option is of the
 * wrong type, or `indexBy` is given to a store without `index`.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 */
export function createRecordSessionStorage(
  store: RecordStore,
  options: ServerSessionStorageOptions = {},
): RecordSessionStorage {
  const { settings } = setUpStore(STORE, store, options);
  return createServerSessionStorage(store, settings);
}

// What the kit's errors say about the store it takes.
const STORE = {
  factory: "createRecordSessionStorage",
  argument: "store",
  what: "a record store",
  methods: ["load", "write", "delete"],
  index: {
    methods: ["add", "entries", "remove"],
    on: "index",
    advice: "Give the store a per-user index (see RecordIndex), or leave " +
      "indexBy out.",
  },
  advice: "Implement load(id), write(record) and delete(ids) on your " +
    "backend; conformance/README.md shows a complete store.",
};
