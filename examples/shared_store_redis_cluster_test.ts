// check: runtimes deno bun node26; needs redis-cluster

// Two app servers, under the runtime running this test, share one Redis
// Cluster of 3 masters; one is killed with SIGKILL midway.

import { after, describe } from "node:test";
import {
  type RedisCluster,
  startRedisCluster,
} from "../testing/redis_cluster.ts";
import { testSeveralServers } from "./_shared_store_servers.ts";

// Started here rather than in a hook: Bun gives a hook 5 seconds, which a
// busy machine can take to start it.
const cluster: RedisCluster = await startRedisCluster();

describe("several servers, one Redis Cluster", () => {
  after(async () => {
    await cluster.stop();
  });

  testSeveralServers("redis store on Redis Cluster", () => ({
    SESSION_STORE: "redis-cluster",
    REDIS_CLUSTER_NODES: cluster.rootNodes.map(({ url }) => url).join(","),
  }));
});
