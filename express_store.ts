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

import { createSession, type Session, type SessionStorage } from "./session.ts";
import { describeValue } from "./_describe.ts";

/**
 * What {@linkcode fromExpressStore} hands an express-session store to keep:
 * the `cookie` express-session stores expect, from which they take the
 * record's lifetime, and the session's data.
 *
 * @example
 * ```ts
 * import type { ExpressSessionRecord } from "@x/session/express-store";
 *
 * const record: ExpressSessionRecord = {
 *   cookie: { originalMaxAge: 3_600_000, maxAge: 3_600_000, expires: new Date() },
 *   data: [{ userId: "mj" }, {}],
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
  /** The session's `[values, flash]` pair. */
  data?: unknown;
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
export interface ExpressStoreOptions {
  /**
   * Seconds of inactivity after which a session is gone. Every save renews
   * it, and an unchanged session is written again once less than half of
   * its ttl is left, so a session in use never expires. The store is told the same lifetime, so it can drop
   * expired records by itself.
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
 * session reads as a new one, `regenerateId(true)` deletes the old record
 * after the new one is written, and `destroy()` deletes the record.
 *
 * Such a store cannot give what its callback API lacks: two overlapping
 * requests of one session both write it whole, and the last write wins (no
 * compare-and-set), and deletes and writes are separate calls, so a crash
 * between the write of a regenerated session and the delete of its old id
 * leaves the old record until it expires.
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
 * @param options How sessions expire.
 * @returns The session storage.
 * @throws {TypeError} When `store` lacks `get`, `set` or `destroy`.
 * @throws {RangeError} When `ttl` is not a positive number of seconds.
 */
export function fromExpressStore(
  store: ExpressStore,
  options: ExpressStoreOptions = {},
): SessionStorage {
  for (const method of ["get", "set", "destroy"] as const) {
    if (typeof store?.[method] !== "function") {
      throw new TypeError(
        `fromExpressStore: argument "store" must be an express-session ` +
          `store with get(), set() and destroy(), got ` +
          `${describeValue(store)}, which has no ${method}().`,
      );
    }
  }
  const { ttl } = options;
  if (ttl !== undefined && !(Number.isFinite(ttl) && ttl > 0)) {
    throw new RangeError(
      `fromExpressStore: option "ttl" must be a positive number of seconds, ` +
        `got ${describeValue(ttl)}. Leave it out to use the store's default.`,
    );
  }
  const ttlMs = ttl === undefined ? undefined : ttl * 1000;
  // When each session read or saved expires (Unix ms).
  const expiries = new WeakMap<Session, number>();

  const call = <T>(
    method: (callback: (error: unknown, value?: T) => void) => void,
  ) =>
    new Promise<T | undefined>((resolve, reject) => {
      method((error, value) => error ? reject(error) : resolve(value));
    });
  const destroy = (id: string) =>
    call((callback) => store.destroy(id, callback));

  function recordOf(session: Session): ExpressSessionRecord {
    if (ttlMs === undefined) {
      return {
        cookie: { originalMaxAge: null, expires: null },
        data: session.data,
      };
    }
    const expires = Date.now() + ttlMs;
    expiries.set(session, expires);
    return {
      cookie: {
        originalMaxAge: ttlMs,
        maxAge: ttlMs,
        expires: new Date(expires),
      },
      data: session.data,
    };
  }

  return {
    async read(cookie) {
      if (!cookie) return createSession();
      const record = await call<unknown>((callback) =>
        store.get(cookie, callback)
      ) as Partial<ExpressSessionRecord> | null | undefined;
      const data = dataOf(record);
      const expires = expiresOf(record);
      if (data === undefined || expires <= Date.now()) {
        if (data !== undefined) await destroy(cookie).catch(() => {});
        return createSession();
      }
      const session = createSession(cookie, data);
      if (Number.isFinite(expires)) expiries.set(session, expires);
      return session;
    },

    async save(session) {
      const { id, deleteId } = session;
      if (session.destroyed) {
        if (deleteId !== undefined) await destroy(deleteId);
        await destroy(id);
        return "";
      }
      const expires = expiries.get(session);
      if (
        !session.dirty && (ttlMs === undefined || expires === undefined ||
          expires - Date.now() > ttlMs / 2)
      ) {
        return null;
      }
      await call((callback) => store.set(id, recordOf(session), callback));
      if (deleteId !== undefined) await destroy(deleteId);
      return id;
    },
  };
}

type Data = [Record<string, unknown>, Record<string, unknown>];

// The [values, flash] pair of a record this module wrote, or undefined for
// anything else, such as a session express-session itself wrote.
function dataOf(record: Partial<ExpressSessionRecord> | null | undefined) {
  const data = record?.data;
  if (!Array.isArray(data) || data.length !== 2) return undefined;
  return data.every((part) =>
      typeof part === "object" && part !== null && !Array.isArray(part)
    )
    ? data as Data
    : undefined;
}

function expiresOf(
  record: Partial<ExpressSessionRecord> | null | undefined,
): number {
  const expires = record?.cookie?.expires;
  if (expires === null || expires === undefined) return Infinity;
  const time = new Date(expires).getTime();
  return Number.isNaN(time) ? Infinity : time;
}
