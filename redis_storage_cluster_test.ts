// check: needs redis-cluster

// The Redis store on a real Redis Cluster of 3 masters, through node-redis's
// cluster client, where two session ids live in different slots.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createCluster } from "redis";
import {
  type RedisCluster,
  startRedisCluster,
} from "./testing/redis_cluster.ts";
import {
  createRedisSessionStorage,
  type RedisSessionClient,
} from "./redis_storage.ts";
import type { Session, SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";

let cluster: RedisCluster;
let client: ReturnType<typeof createCluster>;
let prefixCount = 0;

// Each test works under a prefix of its own, so tests never see each
// other's sessions.
const uniquePrefix = () => `cluster${++prefixCount}:`;

async function request(
  storage: SessionStorage,
  cookie: string | null,
  change: (session: Session) => void = () => {},
) {
  const session = await storage.read(cookie);
  change(session);
  const saved = await storage.save(session);
  return { session, cookie: saved === null ? cookie : saved };
}

// The cluster client, with `beforeDelete` run before each script that
// deletes a key (the second step of a regenerate).
function interceptedClient(
  beforeDelete: () => Promise<void>,
): RedisSessionClient {
  return {
    get: (key) => client.get(key),
    del: (keys) => client.del(keys),
    async eval(script, options) {
      if (script.includes('"DEL"')) await beforeDelete();
      return client.eval(script, options);
    },
  };
}

const slotOf = async (key: string) =>
  Number(await cluster.nodes[0].command("CLUSTER", "KEYSLOT", key));

describe("redis store on Redis Cluster", () => {
  before(async () => {
    cluster = await startRedisCluster();
    client = createCluster({ rootNodes: cluster.rootNodes });
    client.on("error", () => {});
    await client.connect();
  });

  after(async () => {
    client?.destroy();
    await cluster?.stop();
  });

  testSessionStorage({
    name: "redis store on Redis Cluster",
    create: ({ ttl }) =>
      createRedisSessionStorage(client, { prefix: uniquePrefix(), ttl }),
    ttl: 0.5,
    maxValueBytes: 1_000_000,
  });

  it("redis cluster: login with regenerateId(true) moves the session between slots and the old id is worthless", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix, ttl: 3600 });
    // Ids are random: repeat until the two ids land on different slots,
    // which is nearly always the first time.
    for (let tries = 0; tries < 10; tries++) {
      const visit = await request(storage, null, (s) => s.set("theme", "dark"));
      const login = await request(storage, visit.cookie, (s) => {
        s.set("userId", "mj");
        s.regenerateId(true);
      });
      const [oldSlot, newSlot] = await Promise.all([
        slotOf(prefix + visit.cookie),
        slotOf(prefix + login.cookie),
      ]);
      if (oldSlot === newSlot) continue;
      assert.equal(await client.get(prefix + visit.cookie), null);
      assert.notEqual((await storage.read(visit.cookie)).id, visit.cookie);
      const next = await storage.read(login.cookie);
      assert.deepEqual([next.get("theme"), next.get("userId")], [
        "dark",
        "mj",
      ]);
      const logout = await request(storage, login.cookie, (s) => {
        s.regenerateId(true);
        s.destroy();
      });
      assert.equal(logout.cookie, "");
      assert.equal(await client.get(prefix + login.cookie), null);
      return;
    }
    assert.fail("10 logins never put the two ids in different slots");
  });

  it("redis cluster: a regenerate that fails after writing the new id leaves the old session as it was", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    const failing = createRedisSessionStorage(
      interceptedClient(() => Promise.reject(new Error("connection lost"))),
      { prefix },
    );
    const session = await failing.read(visit.cookie);
    session.set("userId", "mj");
    session.regenerateId(true);
    await assert.rejects(failing.save(session), /could not delete a replaced/);
    const old = await storage.read(visit.cookie);
    assert.equal(old.id, visit.cookie);
    assert.deepEqual([old.get("theme"), old.get("userId")], [
      "dark",
      undefined,
    ]);
  });

  it("redis cluster: a save of the old id between the two steps of a regenerate is kept, and the old id still goes", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    let overlapped = false;
    const racing = createRedisSessionStorage(
      interceptedClient(async () => {
        if (overlapped) return;
        overlapped = true;
        await request(storage, visit.cookie, (s) => s.set("cart", 3));
      }),
      { prefix },
    );
    const login = await request(racing, visit.cookie, (s) => {
      s.set("userId", "mj");
      s.regenerateId(true);
    });
    assert.ok(overlapped);
    assert.equal(await client.get(prefix + visit.cookie), null);
    const next = await storage.read(login.cookie);
    assert.deepEqual(
      [next.get("theme"), next.get("cart"), next.get("userId")],
      ["dark", 3, "mj"],
    );
  });

  it("redis cluster: a logout between the two steps of a regenerate is final", async () => {
    const prefix = uniquePrefix();
    const storage = createRedisSessionStorage(client, { prefix });
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    const racing = createRedisSessionStorage(
      interceptedClient(() =>
        request(storage, visit.cookie, (s) => s.destroy()).then(() => {})
      ),
      { prefix },
    );
    const session = await racing.read(visit.cookie);
    session.set("userId", "mj");
    session.regenerateId(true);
    const newId = session.id;
    assert.equal(await racing.save(session), null);
    assert.equal(await client.get(prefix + visit.cookie), null);
    assert.equal(await client.get(prefix + newId), null);
  });
});
