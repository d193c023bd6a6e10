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

import type {
  ServerSessionStorageOptions,
  SessionIndex,
  SessionStorage,
} from "./session.ts";
import { describeValue } from "./_describe.ts";
import { createServerSessionStorage, setUpStore } from "./_server_storage.ts";

/**
 * The keys and arguments of a Lua script run by
 * {@linkcode RedisSessionClient.eval}, as node-redis takes them.
 *
 * @example
 * ```ts
 * import type { RedisEvalOptions } from "@x/session/redis-storage";
 *
 * const options: RedisEvalOptions = { keys: ["session:id"], arguments: ["{}"] };
 * ```
 */
export interface RedisEvalOptions {
  /** The script's `KEYS`. */
  keys: string[];
  /** The script's `ARGV`. */
  arguments: string[];
}

/**
 * The part of a Redis client the store uses: `GET`, `DEL` and `EVAL`, and
 * `EVALSHA` when the client has it. A connected node-redis client
 * (`createClient()` or `createCluster()` from the `redis` package, version 5
 * or later) is one as it is.
 *
 * @example Adapting an ioredis client
 * ```ts
 * import type { Redis } from "ioredis";
 * import type { RedisSessionClient } from "@x/session/redis-storage";
 *
 * export function fromIoredis(redis: Redis): RedisSessionClient {
 *   return {
 *     get: (key) => redis.get(key),
 *     del: (keys) => redis.del(...[keys].flat()),
 *     eval: (script, { keys, arguments: args }) =>
 *       redis.eval(script, keys.length, ...keys, ...args),
 *     evalSha: (sha1, { keys, arguments: args }) =>
 *       redis.evalsha(sha1, keys.length, ...keys, ...args),
 *   };
 * }
 * ```
 */
export interface RedisSessionClient {
  /** `GET key`: the stored string, or `null` when there is none. */
  get(key: string): Promise<string | null>;
  /** `DEL key [key ...]`. */
  del(keys: string | string[]): Promise<unknown>;
  /**
   * `EVAL script numkeys key [key ...] arg [arg ...]`: runs a Lua script
   * atomically and resolves to what it returns (the store's script returns
   * the integer 1 or 0).
   */
  eval(script: string, options: RedisEvalOptions): Promise<unknown>;
  /**
   * `EVALSHA sha1 numkeys key [key ...] arg [arg ...]`: runs a script the
   * server holds in its script cache, named by the SHA-1 digest of its text
   * (40 lowercase hex digits). Optional: with it, the store sends a script's
   * digest in place of its text, and when the server answers `NOSCRIPT`
   * (after `SCRIPT FLUSH`, a restart, or on a cluster node that has not run
   * the script yet) runs the script once through `eval`, which caches it
   * again. It must reject with an error whose message starts with
   * `NOSCRIPT`, as node-redis and ioredis do. Without it, every script runs
   * through `eval`.
   */
  evalSha?(sha1: string, options: RedisEvalOptions): Promise<unknown>;
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
 * The storage {@linkcode createRedisSessionStorage} returns: a
 * {@linkcode SessionStorage} with the per-user {@linkcode SessionIndex},
 * which works when the store was created with `indexBy`.
 *
 * @example
 * ```ts
 * import type { RedisSessionStorage } from "@x/session/redis-storage";
 *
 * export async function logOutEverywhereElse(
 *   storage: RedisSessionStorage,
 *   userId: string,
 *   handle: string,
 * ) {
 *   return await storage.destroySessions(userId, { except: handle });
 * }
 * ```
 */
export interface RedisSessionStorage extends SessionStorage, SessionIndex {}

// A save, in one round trip: writes KEYS[1] only if it still holds the
// text the save read (ARGV[3] "1" and ARGV[4]) or, for a new session, holds
// nothing (ARGV[3] "0"). The version of a record is its text: every write
// has a new expiry in it. Returns 1 when it wrote, 0 when the check failed
// and nothing changed.
const COMPARE_AND_SET = `
local current = redis.call("GET", KEYS[1])
if ARGV[3] == "0" then
  if current ~= false then return 0 end
elseif current ~= ARGV[4] then
  return 0
end
if ARGV[2] == "" then
  redis.call("SET", KEYS[1], ARGV[1])
else
  redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
end
return 1
`;

// Deletes KEYS[1] only if it still holds ARGV[1]; returns 1 when it did.
const DELETE_IF_UNCHANGED = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call("DEL", KEYS[1])
`;

// Adds a session to a user's index, a hash from handle to id (KEYS[1],
// ARGV[1], ARGV[2]), and keeps the hash until its last session may expire:
// ARGV[3] is the new session's time to live in ms, "" for never.
const INDEX_ADD = `
local existed = redis.call("EXISTS", KEYS[1])
redis.call("HSET", KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == "" then
  redis.call("PERSIST", KEYS[1])
else
  local left = redis.call("PTTL", KEYS[1])
  if existed == 0 or (left >= 0 and left < tonumber(ARGV[3])) then
    redis.call("PEXPIRE", KEYS[1], ARGV[3])
  end
end
return 1
`;

// These run through EVAL too, so that the client needs no other commands.
const INDEX_LIST = `return redis.call("HVALS", KEYS[1])`;
// One HDEL per field: Lua's unpack takes at most about 8,000 values.
const INDEX_REMOVE = `
for _, handle in ipairs(ARGV) do redis.call("HDEL", KEYS[1], handle) end
return 1
`;

// The SHA-1 digests of the scripts, as EVALSHA names them, computed once.
const digests = new Map<string, string>();

async function digestOf(script: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-1", new TextEncoder().encode(script)),
  );
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
    .join("");
  digests.set(script, hex);
  return hex;
}

/**
 * Runs scripts through `client`: by digest when it has `evalSha`, which
 * spares sending the script's text on every call, and through `eval` when
 * the server does not hold the script (NOSCRIPT: it ran nothing), which
 * caches it again for the next call.
 */
function scriptRunner(
  client: RedisSessionClient,
): (script: string, options: RedisEvalOptions) => Promise<unknown> {
  const { evalSha } = client;
  if (typeof evalSha !== "function") {
    return (script, options) => client.eval(script, options);
  }
  return async (script, options) => {
    const sha1 = digests.get(script) ?? await digestOf(script);
    try {
      return await evalSha.call(client, sha1, options);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith("NOSCRIPT")) {
        throw error;
      }
      return await client.eval(script, options);
    }
  };
}

/** Milliseconds from now to `expires`, as a Redis PX argument ("" for never). */
function pxUntil(expires: number | null): string {
  return expires === null
    ? ""
    : String(Math.max(1, Math.ceil(expires - Date.now())));
}

/** A version the flow handed back, as the script's two arguments. */
function versionArguments(version: unknown): [string, string] {
  return typeof version === "string" ? ["1", version] : ["0", ""];
}

/**
 * Creates a session storage that keeps each session under one Redis key,
 * `prefix` followed by the session id, holding the session as JSON.
 *
 * Every save is one `EVAL` of a Lua script that writes only if the key still
 * holds what `read` saw: overlapping requests never see half a save and
 * lose no update (see the README's "Overlapping requests"). Every command
 * touches one key, so the store works on Redis Cluster as it is, through
 * node-redis's `createCluster()`: after `regenerateId(true)`, the save
 * writes the new id first and then deletes the old one if it is unchanged
 * (or takes the new one back if it changed), so that a crash in between
 * leaves the client its session from before, never none. The store never
 * scans keys.
 *
 * With `indexBy`, each user has a hash under `prefix` + `user:` + a hash of
 * the user value, from session handle to id, kept until the user's last
 * session may expire: one more `EVAL` per save of a session that names a
 * user; listing reads that hash and those sessions' keys only. Each of
 * these touches one key, so the index works on Redis Cluster too.
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
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 */
export function createRedisSessionStorage(
  client: RedisSessionClient,
  options: RedisSessionStorageOptions = {},
): RedisSessionStorage {
  const { settings, call: command } = setUpStore(CLIENT, client, options);
  const prefix = options.prefix ?? "session:";
  if (typeof prefix !== "string") {
    throw new TypeError(
      `${CLIENT.factory}: option "prefix" must be a string, got ` +
        `${describeValue(prefix)}.`,
    );
  }
  const userKey = (user: string) => `${prefix}user:${user}`;

  const run = scriptRunner(client);
  const deleteIfUnchanged = (key: string, text: string) =>
    command(
      "delete a replaced session from Redis",
      () => run(DELETE_IF_UNCHANGED, { keys: [key], arguments: [text] }),
    );

  return createServerSessionStorage({
    // A lone surrogate has no UTF-8 form: it would share a key with other
    // ids, and node-redis's cluster client computes a slot for it that the
    // server does not, then gives up after "Too many Cluster redirections".
    // An id that starts with "user:" would name a user's index.
    accepts: (id) => !/\p{Cs}/u.test(id) && !id.startsWith("user:"),
    async load(id) {
      const text = await command(
        "read a session from Redis",
        () => client.get(prefix + id),
      );
      return typeof text === "string" ? { text, version: text } : undefined;
    },
    async write({ id, text, expires, expected, oldId, oldExpected }) {
      const key = prefix + id;
      const written = await command(
        "write a session to Redis",
        () =>
          run(COMPARE_AND_SET, {
            keys: [key],
            arguments: [text, pxUntil(expires), ...versionArguments(expected)],
          }),
      );
      if (Number(written) !== 1) return false;
      if (oldId === undefined) return true;
      // Two ids hash to different Redis Cluster slots, which one script
      // cannot both touch: the old id goes only once the new one is
      // written, and only if no other save changed it since it was read.
      const deleted = await deleteIfUnchanged(
        prefix + oldId,
        oldExpected as string,
      );
      if (Number(deleted) === 1) return true;
      // It changed or went: take the new id back, and let the flow retry
      // on what the old id holds now.
      await deleteIfUnchanged(key, text);
      return false;
    },
    async delete(ids) {
      // One key per command: on Redis Cluster, two ids live in two slots.
      for (const id of ids) {
        await command(
          "delete a session from Redis",
          () => client.del(prefix + id),
        );
      }
    },
    // Redis deletes expired keys by itself, but not a key written without
    // an expiry, which a ttl or maxLifetime turned on since makes expired.
    discard: (id, version) => deleteIfUnchanged(prefix + id, String(version)),
    index: {
      add: (user, handle, id, expires) =>
        command("index a session in Redis", () =>
          run(INDEX_ADD, {
            keys: [userKey(user)],
            arguments: [handle, id, pxUntil(expires)],
          })),
      entries: async (user) => {
        const ids = await command(
          "list a user's sessions in Redis",
          () => run(INDEX_LIST, { keys: [userKey(user)], arguments: [] }),
        );
        return Array.isArray(ids) ? ids.map(String) : [];
      },
      remove: (user, handles) =>
        command("unindex a session in Redis", () =>
          run(INDEX_REMOVE, {
            keys: [userKey(user)],
            arguments: [...handles],
          })),
    },
  }, settings);
}

// What the store's errors say about its client.
const CLIENT = {
  factory: "createRedisSessionStorage",
  argument: "client",
  what: "a Redis client",
  methods: ["get", "del", "eval"],
  advice: 'Pass a connected client from the "redis" package, or an ' +
    "adapter (see RedisSessionClient).",
  hint: "Check that the Redis client is connected and the server is reachable.",
};
