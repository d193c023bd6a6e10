/**
 * Sessions in any store written for express-session (MongoDB, DynamoDB,
 * MySQL, Redis and dozens more): {@linkcode fromExpressStore} turns such a
 * store into a {@linkcode SessionStorage}.
 *
 * @example express-session's memory store
 * ```ts
 * import session from "express-session";
 * import { fromExpressStore } from "@x/session/express-store";
 * import assert from "node:assert/strict";
 *
 * const storage = fromExpressStore(new session.MemoryStore(), { ttl: 3600 });
 * const first = await storage.read(null);
 * first.set("userId", "mj");
 * const cookieValue = await storage.save(first);
 * assert.equal((await storage.read(cookieValue)).get("userId"), "mj");
 * ```
 *
 * @module
 */

import type { ServerSessionStorageOptions, SessionStorage } from "./session.ts";
import {
  type BackendSpec,
  createServerSessionStorage,
  inTurn,
  setUpStore,
} from "./_server_storage.ts";

/**
 * What {@linkcode fromExpressStore} hands an express-session store to keep:
 * the `cookie` express-session stores expect, from which they take the
 * record's lifetime, and the session's record, as this package encodes it.
 *
 * @example
 * ```ts
 * import type { ExpressSessionRecord } from "@x/session/express-store";
 *
 * const record: ExpressSessionRecord = {
 *   cookie: { originalMaxAge: 3_600_000, maxAge: 3_600_000, expires: new Date() },
 *   record: '{"v":1}',
 * };
 * ```
 */
export interface ExpressSessionRecord {
  /**
   * The lifetime, in express-session's terms: milliseconds, and when the
   * record expires. `null` when the storage has no ttl, and the store's
   * own default applies.
   */
  cookie: {
    originalMaxAge: number | null;
    maxAge?: number;
    expires?: Date | string | null;
  };
  /** The session's values, flash values and expiry, encoded as text. */
  record?: string;
}

/**
 * The callback API of express-session stores that
 * {@linkcode fromExpressStore} uses. It does not use `touch`: some stores
 * (connect-redis) renew only their own expiry with it, not the one in the
 * record, so a session is renewed by writing it again.
 *
 * @example
 * ```ts
 * import session from "express-session";
 * import type { ExpressStore } from "@x/session/express-store";
 *
 * const store: ExpressStore = new session.MemoryStore();
 * ```
 */
export interface ExpressStore {
  /**
   * Calls back with the record of `sid`, or with nothing. A record that
   * {@linkcode fromExpressStore} did not write reads as a new session.
   */
  get(sid: string, callback: (error: unknown, record?: unknown) => void): void;
  /** Stores `record` under `sid`. */
  set(
    sid: string,
    record: ExpressSessionRecord,
    callback?: (error?: unknown) => void,
  ): void;
  /** Deletes the record of `sid`. */
  destroy(sid: string, callback?: (error?: unknown) => void): void;
}

/**
 * Options for {@linkcode fromExpressStore}.
 *
 * @example
 * ```ts
 * import type { ExpressStoreOptions } from "@x/session/express-store";
 *
 * const options: ExpressStoreOptions = { ttl: 60 * 60 * 24 };
 * ```
 */
export interface ExpressStoreOptions extends ServerSessionStorageOptions {
  /**
   * Seconds of inactivity after which a session is gone. Every save renews
   * it, and an unchanged session is written again once less than half of
   * its ttl is left, so a session in use never expires. The store is told
   * the same lifetime, so it can drop expired records by itself.
   *
   * @default {undefined} (sessions expire when the store's own default
   * says, such as a day for connect-redis and memorystore, never for
   * express-session's MemoryStore)
   */
  ttl?: number;
}

/**
 * Turns an express-session store into a {@linkcode SessionStorage}, with
 * the rules of this package's own stores: an id the store does not hold is
 * not adopted (the client gets a new session with a new id), an expired
 * session reads as a new one, `regenerateId(true)` deletes the old record,
 * `destroy()` deletes the record, and a save merges its request's changes
 * onto a record another request saved in the meantime.
 *
 * An express-session store has no compare-and-set, so the bridge checks
 * and writes in turn per session within one process: overlapping requests
 * that one process serves lose no update, and a logout stays final. Across
 * processes sharing the store, a check and its write can interleave with
 * another process's, and the last write wins; a regenerated session's new
 * record and the delete of its old one are two calls, so a crash in between
 * leaves the old record until it expires. Use this package's own Redis, KV
 * or fs store where that matters.
 *
 * @example connect-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { RedisStore } from "connect-redis";
 * import { fromExpressStore } from "@x/session/express-store";
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect();
 * const storage = fromExpressStore(new RedisStore({ client }), {
 *   ttl: 60 * 60 * 24,
 * });
 * ```
 *
 * @example Regenerating the id at login
 * ```ts
 * import session from "express-session";
 * import { fromExpressStore } from "@x/session/express-store";
 * import assert from "node:assert/strict";
 *
 * const storage = fromExpressStore(new session.MemoryStore());
 * const visitor = await storage.read(null);
 * visitor.set("cart", ["tea"]);
 * const oldId = (await storage.save(visitor))!;
 *
 * const login = await storage.read(oldId);
 * login.regenerateId(true);
 * login.set("userId", "mj");
 * const newId = (await storage.save(login))!;
 * assert.notEqual(newId, oldId);
 * assert.notEqual((await storage.read(oldId)).id, oldId);
 * ```
 *
 * @param store An express-session store.
 * @param options How sessions expire, and whether unknown ids are adopted.
 * @returns The session storage.
 * @throws {TypeError} When `store` lacks `get`, `set` or `destroy`,
 * `useUnknownIds` is not a boolean, or `indexBy` is given: the bridge keeps
 * no per-user index.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number
 * of seconds.
 */
export function fromExpressStore(
  store: ExpressStore,
  options: ExpressStoreOptions = {},
): SessionStorage {
  const { settings, call: backend } = setUpStore(STORE, store, options);
  const call = (
    action: string,
    method: (callback: (error: unknown, value?: unknown) => void) => void,
  ) =>
    backend(
      action,
      () =>
        new Promise<unknown>((resolve, reject) => {
          method((error, value) => error ? reject(error) : resolve(value));
        }),
    );
  // The record's text, or undefined when there is none or the record is not
  // one this bridge wrote (such as a session express-session wrote).
  const load = async (id: string) => {
    const found = await call("read a session", (done) => store.get(id, done));
    const text = (found as ExpressSessionRecord | null | undefined)?.record;
    return typeof text === "string" ? text : undefined;
  };
  const destroy = (id: string) =>
    call("delete a session", (done) => store.destroy(id, done));
  // The check-then-write of each id takes turns, in this process.
  const turns = new Map<string, Promise<unknown>>();

  return createServerSessionStorage({
    // The text itself is the version: the flow compares it by value.
    async load(id) {
      const text = await load(id);
      return text === undefined ? undefined : { text, version: text };
    },
    write({ id, text, expires, expected, oldId, oldExpected }) {
      return inTurn(turns, oldId ?? id, async () => {
        if (await load(id) !== expected) return false;
        if (oldId !== undefined && await load(oldId) !== oldExpected) {
          return false;
        }
        const record: ExpressSessionRecord = {
          cookie: { originalMaxAge: null, expires: null },
          record: text,
        };
        if (expires !== null) {
          const ttl = expires - Date.now();
          record.cookie = {
            originalMaxAge: ttl,
            maxAge: ttl,
            expires: new Date(expires),
          };
        }
        await call("save a session", (done) => store.set(id, record, done));
        if (oldId !== undefined) await destroy(oldId);
        return true;
      });
    },
    async delete(ids) {
      for (const id of ids) await inTurn(turns, id, () => destroy(id));
    },
  }, { useUnknownIds: settings.useUnknownIds, expiry: settings.expiry });
}

// What the bridge's errors say about the store it takes.
const STORE: BackendSpec = {
  factory: "fromExpressStore",
  argument: "store",
  what: "an express-session store",
  methods: ["get", "set", "destroy"],
  index: false,
  advice: "Pass a store written for express-session, such as " +
    "new RedisStore({ client }) from connect-redis.",
  hint:
    "Check that the express-session store works and its backend is reachable.",
};
