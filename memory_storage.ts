/**
 * A session store that keeps sessions in the process's memory: for tests and
 * development. Sessions are lost when the process ends, and are not shared
 * between processes.
 *
 * @example
 * ```ts
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const storage = createMemorySessionStorage({ ttl: 3600, maxSessions: 1000 });
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
  serverOptions,
} from "./_server_storage.ts";
import { describeValue } from "./_describe.ts";

/**
 * Options for {@linkcode createMemorySessionStorage}.
 *
 * @example
 * ```ts
 * import type { MemorySessionStorageOptions } from "@x/session/memory-storage";
 *
 * const options: MemorySessionStorageOptions = { ttl: 3600, maxSessions: 1000 };
 * ```
 */
export interface MemorySessionStorageOptions
  extends ServerSessionStorageOptions {
  /**
   * The most sessions kept at once; when a new one would exceed it, the least
   * recently used session is evicted.
   *
   * @default {100000}
   */
  maxSessions?: number;
}

/**
 * The storage {@linkcode createMemorySessionStorage} returns: a
 * {@linkcode SessionStorage} with the per-user {@linkcode SessionIndex},
 * which works when the store was created with `indexBy`.
 *
 * @example
 * ```ts
 * import {
 *   createMemorySessionStorage,
 *   type MemorySessionStorage,
 * } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const storage: MemorySessionStorage = createMemorySessionStorage({
 *   indexBy: "userId",
 * });
 * assert.deepEqual(await storage.listSessions("mj"), []);
 * ```
 */
export interface MemorySessionStorage extends SessionStorage, SessionIndex {}

/**
 * Creates a session storage that keeps sessions in memory. Stored data is a
 * serialized copy, so no object is shared between requests.
 *
 * @example Counting visits
 * ```ts
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createMemorySessionStorage();
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("count"), 1);
 * ```
 *
 * A per-user index (`indexBy`) is a map from user to that user's
 * sessions, pruned of evicted ones whenever the user's sessions are saved.
 *
 * @param options How sessions expire, how many are kept and which value
 * the per-user index is keyed by.
 * @returns The session storage.
 */
export function createMemorySessionStorage(
  options: MemorySessionStorageOptions = {},
): MemorySessionStorage {
  const factory = "createMemorySessionStorage";
  const settings = serverOptions(factory, options);
  const { expiry } = settings;
  const maxSessions = options.maxSessions ?? 100_000;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new RangeError(
      `${factory}: option "maxSessions" must be a whole number of at least 1, ` +
        `got ${describeValue(options.maxSessions)}.`,
    );
  }
  // A Map iterates in insertion order; re-inserting on every use keeps the
  // least recently used session first.
  const records = new Map<
    string,
    { text: string; expires: number | null; version: number }
  >();
  // Every write gets a new version, so a save can tell whether the record
  // it read was written again since.
  let lastVersion = 0;
  // User key -> handle -> id.
  const users = new Map<string, Map<string, string>>();

  return createServerSessionStorage({
    load(id) {
      const stored = records.get(id);
      if (stored === undefined) return undefined;
      records.delete(id);
      // Drop an expired record now: `discard` would run a tick later and
      // could delete a session saved under this id in between.
      if (expiry.isPast(stored.expires)) return undefined;
      records.set(id, stored);
      return stored;
    },
    // Synchronous, so the checks and the changes are atomic.
    write({ id, text, expires, expected, oldId, oldExpected }) {
      if (records.get(id)?.version !== expected) return false;
      if (oldId !== undefined) {
        if (records.get(oldId)?.version !== oldExpected) return false;
        records.delete(oldId);
      }
      records.delete(id);
      records.set(id, { text, expires, version: ++lastVersion });
      // Evict from the least recently used end: over the bound, or expired.
      for (const [key, record] of records) {
        if (records.size <= maxSessions && !expiry.isPast(record.expires)) {
          break;
        }
        records.delete(key);
      }
      return true;
    },
    delete(ids) {
      for (const id of ids) records.delete(id);
    },
    index: {
      add(user, handle, id) {
        const entries = users.get(user) ?? new Map<string, string>();
        for (const [known, knownId] of entries) {
          if (!records.has(knownId)) entries.delete(known);
        }
        users.set(user, entries.set(handle, id));
      },
      entries: (user) => users.get(user)?.values() ?? [],
      remove(user, handles) {
        const entries = users.get(user);
        for (const handle of handles) entries?.delete(handle);
        if (entries?.size === 0) users.delete(user);
      },
    },
  }, settings);
}
