// check: needs redis-server

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { Redis } from "ioredis";
import { type RedisServer, startRedisServer } from "./testing/redis_server.ts";
import {
  createRedisSessionStorage,
  type RedisSessionClient,
  type RedisSessionStorageOptions,
} from "./redis_storage.ts";
import type { SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";

let server: RedisServer;
let client: ReturnType<typeof createClient>;
let ioredis: Redis;
let prefixCount = 0;

// Each test works under a prefix of its own, so tests never see each
// other's sessions.
function uniquePrefix(): string {
  return `test${++prefixCount}:`;
}

type Client = Pick<typeof client, "get" | "del" | "eval" | "evalSha">;

// Wraps a real client and records the commands the store sends.
function recordingClient(
  commands: string[],
  redis: Client = client,
): RedisSessionClient {
  return {
    get: (key) => (commands.push("GET"), redis.get(key)),
    del: (keys) => (commands.push("DEL"), redis.del(keys)),
    eval: (
      script,
      options,
    ) => (commands.push("EVAL"), redis.eval(script, options)),
  };
}

// The same, with EVALSHA: records the scripts run by digest as "EVALSHA",
// and those that failed because the server did not hold them as "NOSCRIPT".
function recordingShaClient(
  commands: string[],
  redis: Client = client,
): RedisSessionClient {
  return {
    ...recordingClient(commands, redis),
    evalSha: (sha1, options) => {
      commands.push("EVALSHA");
      return redis.evalSha(sha1, options).catch((error) => {
        if (/^NOSCRIPT/.test(error?.message)) commands.push("NOSCRIPT");
        throw error;
      });
    },
  };
}

// The adapter the documentation of RedisSessionClient shows for ioredis.
function ioredisClient(redis: Redis): RedisSessionClient {
  return {
    get: (key) => redis.get(key),
    del: (keys) => redis.del(...[keys].flat()),
    eval: (script, { keys, arguments: args }) =>
      redis.eval(script, keys.length, ...keys, ...args),
    evalSha: (sha1, { keys, arguments: args }) =>
      redis.evalsha(sha1, keys.length, ...keys, ...args),
  };
}

// Asserts that a key expires a full hour after a save that began at
// `before` (a Date.now() reading): PTTL may fall short of 3,600,000 ms only
// by the milliseconds that have passed since.
function assertFullHour(pttl: number, before: number): void {
  const elapsed = Date.now() - before;
  assert.ok(
    pttl <= 3_600_000 && pttl >= 3_600_000 - elapsed - 1,
    `PTTL was ${pttl} ms, ${elapsed} ms after the save began: the key must ` +
      "expire one hour after the save",
  );
}

async function request(
  storage: SessionStorage,
  cookie: string | null,
  change: (session: Awaited<ReturnType<SessionStorage["read"]>>) => void =
    () => {},
) {
  const session = await storage.read(cookie);
  change(session);
  const saved = await storage.save(session);
  return { session, cookie: saved === null ? cookie : saved };
}

// One server for the file; the conformance cases are top-level tests, so
// that every runner counts them one by one.
before(async () => {
  server = await startRedisServer();
  client = createClient({ url: server.url });
  await client.connect();
  ioredis = new Redis(server.url, { lazyConnect: true });
  await ioredis.connect();
});

after(async () => {
  client?.destroy();
  ioredis?.disconnect();
  await server?.stop();
});

const prefixes = new Map<object, string>();
const opened = (prefix: string, options: RedisSessionStorageOptions) => {
  const storage = createRedisSessionStorage(client, { ...options, prefix });
  prefixes.set(storage, prefix);
  return storage;
};
testSessionStorage({
  name: "redis store",
  create: (options) => opened(uniquePrefix(), options),
  reopen: (storage, options) => opened(prefixes.get(storage)!, options),
  ttl: 0.5,
  maxLifetime: 1,
  index: true,
  maxValueBytes: 1_000_000,
  cookieSafeValues: true,
});

describe("redis store", () => {
  it("redis store: a session is one key, the prefix and the id, holding JSON", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    const session = await storage.read(null);
    session.set("user", { name: "mj", roles: ["admin"] });
    const cookie = await storage.save(session);
    assert.equal(cookie, session.id);
    const stored = await client.get(prefix + session.id);
    assert.ok(stored !== null);
    assert.deepEqual(JSON.parse(stored).d, [
      { user: { name: "mj", roles: ["admin"] } },
      {},
    ]);
    assert.equal(await client.pTTL(prefix + session.id), -1);
  });

  it("redis store: the default prefix is session:", async () => {
    const storage = createRedisSessionStorage(client);
    const session = await storage.read(null);
    session.set("n", 1);
    await storage.save(session);
    assert.notEqual(await client.get(`session:${session.id}`), null);
    await client.del(`session:${session.id}`);
  });

  it("redis store: stores with different prefixes do not see each other's sessions", async () => {
    const one = createRedisSessionStorage(client, { prefix: uniquePrefix() });
    const two = createRedisSessionStorage(client, { prefix: uniquePrefix() });
    const { cookie } = await request(one, null, (s) => s.set("n", 1));
    const other = await two.read(cookie);
    assert.notEqual(other.id, cookie);
    assert.equal(other.get("n"), undefined);
  });

  it("redis store: an untouched session sends no command on save", async () => {
    const commands: string[] = [];
    const storage = createRedisSessionStorage(recordingClient(commands), {
      prefix: uniquePrefix(),
    });
    assert.equal(await storage.save(await storage.read(null)), null);
    assert.deepEqual(commands, []);
  });

  it("redis store: useUnknownIds adopts an id it does not hold", async () => {
    const storage = createRedisSessionStorage(client, {
      prefix: uniquePrefix(),
      useUnknownIds: true,
    });
    const session = await storage.read("known-to-client");
    assert.equal(session.id, "known-to-client");
    session.set("n", 1);
    assert.equal(await storage.save(session), "known-to-client");
    assert.equal((await storage.read("known-to-client")).get("n"), 1);
  });

  it("redis store: a user with more index entries to drop than a Lua script can unpack is listed and logged out", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, {
      prefix,
      indexBy: "userId",
    });
    const { cookie } = await request(storage, null, (s) => {
      s.set("userId", "mj");
    });
    // 8,001 entries of sessions that are gone (an account that logs in
    // often, never listed since): Redis's Lua unpacks at most about 8,000
    // values into one call.
    const [indexKey] = await client.keys(`${prefix}user:*`);
    const gone: Record<string, string> = {};
    for (let i = 0; i < 8001; i++) gone[`gone${i}`] = `ended-session-${i}`;
    await client.hSet(indexKey, gone);
    assert.equal((await storage.listSessions("mj")).length, 1);
    assert.equal(await storage.destroySessions("mj"), 1);
    assert.equal((await storage.read(cookie)).size, 0);
  });

  it("redis store: a cookie naming a user's index key reads as a new session and cannot block that user's logins", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, {
      prefix,
      indexBy: "userId",
      useUnknownIds: true,
    });
    await request(storage, null, (s) => s.set("userId", "mj"));
    const [indexKey] = await client.keys(`${prefix}user:*`);
    const cookie = indexKey.slice(prefix.length);
    // The index of mj's sessions is no session.
    const read = await storage.read(cookie);
    assert.notEqual(read.id, cookie);
    assert.equal(read.size, 0);
    // With the index gone (its sessions expired), a client that sends its
    // key as a cookie must not get a session written there: mj's next
    // login would find a string where it adds to the index.
    await client.del(indexKey);
    const planted = await request(storage, cookie, (s) => s.set("n", 1));
    assert.notEqual(planted.cookie, cookie);
    const login = await request(storage, null, (s) => s.set("userId", "mj"));
    assert.deepEqual(
      (await storage.listSessions("mj")).map((entry) => entry.handle),
      [storage.handleOf(login.session)],
    );
  });

  it("redis store: an empty cookie reads as a new session", async () => {
    const storage = createRedisSessionStorage(client, {
      prefix: uniquePrefix(),
      useUnknownIds: true,
    });
    const session = await storage.read("");
    assert.notEqual(session.id, "");
  });

  it("redis store: a corrupt value reads as a new session with a new id", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    for (const garbage of ["not json", "[1,2]", '{"d":[{}]}', "null"]) {
      await client.set(`${prefix}corrupt`, garbage);
      const session = await storage.read("corrupt");
      assert.notEqual(session.id, "corrupt");
      assert.equal(session.size, 0);
    }
  });

  it("redis store: a value of another Redis type reads as a failure, not a crash", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    await client.lPush(`${prefix}listkey`, "x");
    await assert.rejects(storage.read("listkey"), (error: Error) => {
      assert.match(error.message, /createRedisSessionStorage: could not read/);
      assert.doesNotMatch(error.message, /listkey/);
      return true;
    });
  });

  it("redis store: login with regenerateId(true) writes the new id, then deletes the old one", async () => {
    const prefix = uniquePrefix();
    const commands: string[] = [];
    const storage = createRedisSessionStorage(recordingClient(commands), {
      prefix,
    });
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    commands.length = 0;
    const login = await request(storage, visit.cookie, (s) => {
      s.set("userId", "mj");
      s.regenerateId(true);
    });
    assert.deepEqual(commands, ["GET", "EVAL", "EVAL"]);
    assert.notEqual(login.cookie, visit.cookie);
    assert.equal(await client.get(prefix + visit.cookie), null);
  });

  it("redis store: destroy after regenerateId(true) deletes both ids, one key per command", async () => {
    const prefix = uniquePrefix();
    const commands: string[] = [];
    const storage = createRedisSessionStorage(recordingClient(commands), {
      prefix,
    });
    const visit = await request(storage, null, (s) => s.set("n", 1));
    commands.length = 0;
    const session = await storage.read(visit.cookie);
    session.regenerateId(true);
    const newId = session.id;
    session.destroy();
    assert.equal(await storage.save(session), "");
    assert.deepEqual(commands, ["GET", "DEL", "DEL"]);
    assert.equal(
      await client.exists([prefix + visit.cookie, prefix + newId]),
      0,
    );
  });

  it("redis store: a client with evalSha runs the scripts by digest, and through eval again after SCRIPT FLUSH", async () => {
    const commands: string[] = [];
    const storage = createRedisSessionStorage(recordingShaClient(commands), {
      prefix: uniquePrefix(),
    });
    await client.scriptFlush();
    const first = await request(storage, null, (s) => s.set("n", 1));
    assert.deepEqual(commands, ["EVALSHA", "NOSCRIPT", "EVAL"]);
    commands.length = 0;
    const second = await request(storage, first.cookie, (s) => s.set("n", 2));
    assert.deepEqual(commands, ["GET", "EVALSHA"]);
    await client.scriptFlush();
    commands.length = 0;
    const third = await request(storage, second.cookie, (s) => s.set("n", 3));
    assert.deepEqual(commands, ["GET", "EVALSHA", "NOSCRIPT", "EVAL"]);
    assert.equal(third.cookie, first.cookie);
    assert.equal((await storage.read(third.cookie)).get("n"), 3);
  });

  it("redis store: a client with evalSha keeps saving after the server restarts with no scripts", async () => {
    const own = await startRedisServer();
    const redis = createClient({ url: own.url });
    redis.on("error", () => {});
    await redis.connect();
    let restarted: RedisServer | undefined;
    try {
      const commands: string[] = [];
      const storage = createRedisSessionStorage(
        recordingShaClient(commands, redis),
        { prefix: uniquePrefix() },
      );
      await request(storage, null, (s) => s.set("n", 1));
      await own.stop();
      restarted = await startRedisServer({ port: own.port });
      // The client reconnects by itself; bounded wait until it has.
      for (let i = 0; i < 100 && !redis.isReady; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      commands.length = 0;
      const { cookie } = await request(storage, null, (s) => s.set("n", 2));
      assert.deepEqual(commands, ["EVALSHA", "NOSCRIPT", "EVAL"]);
      assert.equal((await storage.read(cookie)).get("n"), 2);
    } finally {
      redis.destroy();
      await restarted?.stop();
      await own.stop();
    }
  });

  it("redis store: an evalSha failure other than NOSCRIPT rejects, and eval is not tried", async () => {
    const commands: string[] = [];
    const storage = createRedisSessionStorage({
      ...recordingShaClient(commands),
      evalSha: () => Promise.reject(new Error("READONLY You can't write")),
    }, { prefix: uniquePrefix() });
    const session = await storage.read(null);
    session.set("n", 1);
    await assert.rejects(storage.save(session), /could not write.*READONLY/);
    assert.deepEqual(commands, []);
  });

  it("redis store: ttl becomes the Redis expiry of the key", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix, ttl: 3600 });
    const before = Date.now();
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    assertFullHour(await client.pTTL(prefix + cookie), before);
  });

  it("redis store: an unchanged session in use is renewed once less than half its ttl is left", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix, ttl: 3600 });
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    // Fresh: reading and saving it unchanged writes nothing.
    assert.equal(await storage.save(await storage.read(cookie)), null);
    // Age the stored session: 1000 of its 3600 seconds are left.
    const key = prefix + cookie;
    const record = JSON.parse((await client.get(key))!);
    record.e = Date.now() + 1_000_000;
    await client.set(key, JSON.stringify(record), {
      expiration: { type: "PX", value: 1_000_000 },
    });
    const before = Date.now();
    assert.equal(await storage.save(await storage.read(cookie)), cookie);
    assertFullHour(await client.pTTL(key), before);
    assert.equal((await storage.read(cookie)).get("n"), 1);
  });

  it("redis store: a record past its own expiry reads as a new session even if Redis still holds it", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix, ttl: 3600 });
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const record = JSON.parse((await client.get(prefix + cookie))!);
    record.e = Date.now() - 1;
    await client.set(prefix + cookie, JSON.stringify(record));
    const session = await storage.read(cookie);
    assert.notEqual(session.id, cookie);
    assert.equal(session.get("n"), undefined);
  });

  it("redis store: a value JSON cannot write is refused with a clear error", async () => {
    const storage = createRedisSessionStorage(client, {
      prefix: uniquePrefix(),
    });
    const session = await storage.read(null);
    session.set("big", 1n);
    await assert.rejects(storage.save(session), /JSON-serializable/);
  });

  it("redis store: bad options are refused with errors naming them", () => {
    assert.throws(
      () => createRedisSessionStorage(client, { ttl: -1 }),
      /createRedisSessionStorage: option "ttl" must be a positive number/,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createRedisSessionStorage(client, { prefix: 42 as any }),
      /option "prefix" must be a string, got 42\./,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createRedisSessionStorage({} as any),
      /argument "client" must be a Redis client with a "get" method/,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createRedisSessionStorage(undefined as any),
      /argument "client" must be a Redis client/,
    );
  });

  it("redis store: an unreachable Redis rejects with an error that names no session id", async () => {
    const closed = createClient({ url: server.url });
    await closed.connect();
    closed.destroy();
    const storage = createRedisSessionStorage(closed, {
      prefix: uniquePrefix(),
    });
    await assert.rejects(storage.read("secret-session-id"), (error: Error) => {
      assert.match(error.message, /createRedisSessionStorage: could not read/);
      assert.doesNotMatch(error.message, /secret-session-id/);
      return true;
    });
    const session = await storage.read(null).catch(() => undefined);
    assert.ok(session);
    session.set("n", 1);
    await assert.rejects(storage.save(session), /could not write/);
  });

  it("redis store: the documented ioredis adapter works, ttl and regenerateId(true) included", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(ioredisClient(ioredis), {
      prefix,
      ttl: 3600,
    });
    let before = Date.now();
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    assertFullHour(await ioredis.pttl(prefix + visit.cookie), before);
    before = Date.now();
    const login = await request(storage, visit.cookie, (s) => {
      s.set("userId", "mj");
      s.flash("message", "Welcome");
      s.regenerateId(true);
    });
    assertFullHour(await ioredis.pttl(prefix + login.cookie), before);
    assert.equal(await ioredis.get(prefix + visit.cookie), null);
    const next = await request(storage, login.cookie);
    assert.equal(next.session.get("message"), "Welcome");
    assert.equal(next.session.get("userId"), "mj");
    const logout = await request(storage, next.cookie, (s) => s.destroy());
    assert.equal(logout.cookie, "");
    assert.equal(await ioredis.exists(prefix + login.cookie), 0);
  });
});
