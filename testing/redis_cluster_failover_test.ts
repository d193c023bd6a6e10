// check: runtimes node26; needs redis-cluster

// What a Redis Cluster failover does to sessions, on a real cluster of 3
// masters with a replica each. A planned failover (CLUSTER FAILOVER) waits
// for the replica to catch up and loses nothing. A master that crashes
// takes with it the writes its replica had not received yet, because Redis
// replicates asynchronously: the README's "Scaling out" says so, and this
// test shows each kind of loss. Redis, not the JavaScript runtime, decides
// all of it, so the file runs on one runtime.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createCluster } from "redis";
import {
  type ClusterNode,
  type RedisCluster,
  startRedisCluster,
} from "./redis_cluster.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import type { Session, SessionStorage } from "../session.ts";
import { request } from "../conformance/_harness.ts";

const PREFIX = "session:";
const PROMOTION_POLLS = 300;

// Started here rather than in a hook: Bun gives a hook 5 seconds, which a
// busy machine can take to start a cluster.
const cluster: RedisCluster = await startRedisCluster({ replicas: 1 });
const clients: { destroy(): void }[] = [];

/** A storage on a fresh cluster client that knows only the live nodes. */
async function connect(): Promise<SessionStorage> {
  const client = createCluster({
    rootNodes: cluster.nodes.filter((node) => !node.killed).map(({ url }) => ({
      url,
    })),
  });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return createRedisSessionStorage(client, { ttl: 3600 });
}

/**
 * The master that serves `id`'s key and its replica, per CLUSTER NODES,
 * once the cluster shows both: just after a failover, the old master may not
 * yet be listed as the new one's replica.
 */
async function shardOf(id: string) {
  for (let poll = 0; poll < PROMOTION_POLLS; poll++) {
    const shard = await readShard(id);
    if (shard !== undefined) return shard;
    await sleep(50);
  }
  assert.fail("CLUSTER NODES never showed a master and a replica for the key");
}

async function readShard(id: string) {
  // Any node that answers: after the planned failover of an earlier case
  // the first node may be the replica this case freezes.
  const live = cluster.nodes.find((node) => !node.killed && !node.frozen)!;
  const slot = Number(
    await live.command("CLUSTER", "KEYSLOT", PREFIX + id),
  );
  const lines = (await live.command("CLUSTER", "NODES")).trim().split("\n")
    .map((line) => line.split(" "));
  const byPort = (address: string) =>
    cluster.nodes.find((node) =>
      node.port === Number(address.split("@")[0].split(":")[1])
    )!;
  const master = lines.find(([, , flags, , , , , , ...ranges]) =>
    flags.includes("master") && !flags.includes("fail") &&
    ranges.some((range) => {
      const [from, to = from] = range.split("-").map(Number);
      return from <= slot && slot <= to;
    })
  );
  const replica = master && lines.find((line) => line[3] === master[0]);
  if (!master || !replica) return undefined;
  return { master: byPort(master[1]), replica: byPort(replica[1]) };
}

async function waitUntilMaster(node: ClusterNode): Promise<void> {
  for (let poll = 0; poll < PROMOTION_POLLS; poll++) {
    if ((await node.command("ROLE")).startsWith("master")) {
      return await cluster.waitUntilHealthy();
    }
    await sleep(50);
  }
  assert.fail(`the replica on port ${node.port} never took over`);
}

describe("redis store on Redis Cluster, failover", () => {
  after(async () => {
    for (const client of clients) client.destroy();
    await cluster.stop();
  });

  it("redis cluster: a planned failover (CLUSTER FAILOVER) loses no session", async () => {
    const storage = await connect();
    const saved: { cookie: string; n: number }[] = [];
    for (let n = 0; n < 30; n++) {
      const { cookie } = await request(storage, null, (s) => s.set("n", n));
      saved.push({ cookie: cookie!, n });
    }
    const { replica } = await shardOf(saved[0].cookie);
    await replica.command("CLUSTER", "FAILOVER");
    await waitUntilMaster(replica);
    const after = await connect();
    for (const { cookie, n } of saved) {
      const session = await after.read(cookie);
      assert.deepEqual([session.id, session.get("n")], [cookie, n]);
    }
  });

  it("redis cluster: a master that crashes loses what its replica had not received: a save steps back, a new session is gone, a logout is undone", async () => {
    const storage = await connect();
    // Two sessions on one master, and one on another as a witness.
    const sessions: { cookie: string; port: number }[] = [];
    for (let n = 0; n < 60; n++) {
      const { cookie } = await request(storage, null, (s) => s.set("step", 1));
      const { master } = await shardOf(cookie!);
      sessions.push({ cookie: cookie!, port: master.port });
    }
    const port = sessions[0].port;
    const [updated, loggedOut] = sessions.filter((s) => s.port === port);
    const witness = sessions.find((s) => s.port !== port)!;
    const { master, replica } = await shardOf(updated.cookie);
    assert.equal(await master.command("WAIT", "1", "5000"), "1\n");

    // Cut the replica off: frozen, and its link closed by the master, so
    // that nothing written from now on reaches it.
    replica.signal("SIGSTOP");
    await master.command("CLIENT", "KILL", "TYPE", "replica");
    await request(storage, updated.cookie, (s) => s.set("step", 2));
    await request(storage, loggedOut.cookie, (s) => s.destroy());
    let created: Session | undefined;
    while (created === undefined) {
      const session = await storage.read(null);
      if ((await shardOf(session.id)).master.port === port) created = session;
    }
    created.set("step", 1);
    await storage.save(created);
    await request(storage, witness.cookie, (s) => s.set("step", 2));
    // All four writes were acknowledged; now the master crashes.
    assert.equal((await storage.read(updated.cookie)).get("step"), 2);
    master.signal("SIGKILL");
    replica.signal("SIGCONT");
    await waitUntilMaster(replica);

    const after = await connect();
    const stepOf = async (cookie: string) => {
      const session = await after.read(cookie);
      return session.id === cookie ? session.get("step") : "gone";
    };
    assert.equal(await stepOf(updated.cookie), 1, "the save stepped back");
    assert.equal(await stepOf(created.id), "gone", "the new session is gone");
    assert.equal(await stepOf(loggedOut.cookie), 1, "the logout is undone");
    assert.equal(await stepOf(witness.cookie), 2, "other masters lose nothing");
  });
});
