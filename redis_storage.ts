/**
 * A session store that keeps sessions in Redis: for apps that run on more
 * than one server. Every server that talks to the same Redis sees the same
 * sessions, so no sticky sessions are needed.
 *
 * The store takes a connected client. The `redis` package (node-redis) fits
 * as it is; other clients fit through a few lines, see
 * {@linkcode RedisSessionClient}.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * import { createRedisSessionStorage } from "@x/session/redis-storage";
 *
 * export async function openSessionStorage(url: string) {
 *   const client = await createClient({ url }).connect();
 *   return createRedisSessionStorage(client, { ttl: 86400 });
 * }
 * ```
 *
 * @module
 */

import type { ServerSessionStorageOptions, SessionStorage } from "./session.ts";
import { describeValue } from "./_describe.ts";
import {
  assertMethods,
  backendCalls,
  createServerSessionStorage,
  serverOptions,
} from "./_server_storage.ts";

/**
 * The options the store passes to {@linkcode RedisSessionClient.set}: an
 * expiry in milliseconds (Redis `SET key value PX ms`), or none.
 *
 * @example
 * ```ts
 * import type { RedisSetOptions } from "@x/session/redis-storage";
 *
 * const oneHour: RedisSetOptions = { expiration: { type: "PX", value: 3_600_000 } };
 * ```
 */
export interface RedisSetOptions {
  /** Redis deletes the key this many milliseconds after the write. */
  expiration: { type: "PX"; value: number };
}

/**
 * The commands the store queues in one transaction (Redis `MULTI`/`EXEC`).
 * Each method queues a command; `exec` runs them all at once.
 *
 * @example What a save after `regenerateId(true)` sends
 * ```ts
 * import type { RedisSessionTransaction } from "@x/session/redis-storage";
 *
 * export async function move(multi: RedisSessionTransaction, json: string) {
 *   multi.set("session:new-id", json);
 *   multi.del("session:old-id");
 *   await multi.exec();
 * }
 * ```
 */
export interface RedisSessionTransaction {
  /** Queues `SET key value [PX ms]`. */
  set(key: string, value: string, options?: RedisSetOptions): unknown;
  /** Queues `DEL key`. */
  del(key: string): unknown;
  /** Runs the queued commands atomically; rejects when Redis refuses them. */
  exec(): Promise<unknown>;
}

/**
 * The part of a Redis client the store uses: `GET`, `SET` with an expiry,
 * `DEL` and `MULTI`. A connected node-redis client (`createClient()` from the
 * `redis` package, version 5 or later) is one as it is.
 *
 * @example Adapting an ioredis client
 * ```ts
 * import type { Redis } from "ioredis";
 * import type { RedisSessionClient } from "@x/session/redis-storage";
 *
 * export function fromIoredis(redis: Redis): RedisSessionClient {
 *   return {
 *     get: (key) => redis.get(key),
 *     set: (key, value, options) =>
 *       options
 *         ? redis.set(key, value, "PX", options.expiration.value)
 *         : redis.set(key, value),
 *     del: (keys) => redis.del(...[keys].flat()),
 *     multi() {
 *       const multi = redis.multi();
 *       return {
 *         set: (key, value, options) =>
 *           options
 *             ? multi.set(key, value, "PX", options.expiration.value)
 *             : multi.set(key, value),
 *         del: (key) => multi.del(key),
 *         exec: () => multi.exec(),
 *       };
 *     },
 *   };
 * }
 * ```
 */
export interface RedisSessionClient {
  /** `GET key`: the stored string, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** `SET key value [PX ms]`. */
  set(key: string, value: string, options?: RedisSetOptions): Promise<unknown>;
  /** `DEL key [key ...]`. */
  del(keys: string | string[]): Promise<unknown>;
  /** Starts a transaction, `MULTI`. */
  multi(): RedisSessionTransaction;
}

/**
 * Options for {@linkcode createRedisSessionStorage}. With a `ttl`, Redis
 * deletes an expired key by itself; without one, Redis keeps sessions until
 * they are destroyed or evicted by a `maxmemory` policy.
 *
 * @example
 * ```ts
 * import type { RedisSessionStorageOptions } from "@x/session/redis-storage";
 *
 * const options: RedisSessionStorageOptions = { prefix: "shop:session:", ttl: 86400 };
 * ```
 */
export interface RedisSessionStorageOptions
  extends ServerSessionStorageOptions {
  /**
   * Prepended to the session id to form the Redis key, so that sessions do
   * not collide with other data in the same database.
   *
   * @default {"session:"}
   */
  prefix?: string;
}

/**
 * Creates a session storage that keeps each session under one Redis key,
 * `prefix` followed by the session id, holding the session as JSON.
 *
 * Every save is one Redis command, or one `MULTI` transaction when it also
 * deletes the old id after `regenerateId(true)`: concurrent requests never
 * see half a save, and the last save wins. The store never scans keys.
 * When Redis cannot be reached, `read` and `save` reject with an error
 * naming the store.
 *
 * @example Counting visits
 * ```ts
 * import { createClient } from "redis";
 * import { createRedisSessionStorage } from "@x/session/redis-storage";
 *
 * const client = createClient({ url: "redis://127.0.0.1:6379" });
 * const storage = createRedisSessionStorage(client, { prefix: "app:session:" });
 *
 * // Call once at startup: the store never connects or closes the client.
 * export async function connect() {
 *   await client.connect();
 * }
 *
 * export async function countVisit(cookie: string | null) {
 *   const session = await storage.read(cookie);
 *   session.set("count", Number(session.get("count") ?? 0) + 1);
 *   return { session, cookie: await storage.save(session) };
 * }
 * ```
 *
 * @param client A connected Redis client; the store never connects or
 * closes it.
 * @param options The key prefix, how sessions expire and whether unknown ids
 * are adopted.
 * @returns The session storage.
 * @throws {TypeError} When `client` lacks a method the store needs, or
 * `prefix` is not a string.
 * @throws {RangeError} When `ttl` is not a positive number.
 */
export function createRedisSessionStorage(
  client: RedisSessionClient,
  options: RedisSessionStorageOptions = {},
): SessionStorage {
  const factory = "createRedisSessionStorage";
  assertMethods(factory, "client", client, {
    what: "a Redis client",
    methods: ["get", "set", "del", "multi"],
    advice: 'Pass a connected client from the "redis" package, or an ' +
      "adapter (see RedisSessionClient).",
  });
  const prefix = options.prefix ?? "session:";
  if (typeof prefix !== "string") {
    throw new TypeError(
      `${factory}: option "prefix" must be a string, got ` +
        `${describeValue(prefix)}.`,
    );
  }
  const { useUnknownIds, expiry, ttl } = serverOptions(factory, options);
  // Redis expiries are whole milliseconds of at least 1.
  const setOptions: RedisSetOptions | undefined = ttl === undefined
    ? undefined
    : { expiration: { type: "PX", value: Math.max(1, Math.ceil(ttl)) } };

  const command = backendCalls(
    factory,
    "Check that the Redis client is connected and the server is reachable.",
  );

  // Redis deletes expired keys by itself: no `discard`.
  return createServerSessionStorage({
    async load(id) {
      const text = await command(
        "read a session from Redis",
        () => client.get(prefix + id),
      );
      return typeof text === "string" ? text : undefined;
    },
    write(id, text, oldId) {
      return command("write a session to Redis", () => {
        const key = prefix + id;
        if (oldId === undefined) return client.set(key, text, setOptions);
        const transaction = client.multi();
        transaction.set(key, text, setOptions);
        transaction.del(prefix + oldId);
        return transaction.exec();
      });
    },
    delete(ids) {
      const keys = ids.map((id) => prefix + id);
      return command(
        "delete a session from Redis",
        () => client.del(keys.length === 1 ? keys[0] : keys),
      );
    },
  }, { useUnknownIds, expiry });
}
