// check: runtimes deno bun node26; needs redis-cluster

// Two app servers, under the runtime running this test, share one Redis
// Cluster of 3 masters; one is killed with SIGKILL midway.

import { after, describe } from "node:test";
import { randomBytes } from "node:crypto";
import {
  type RedisCluster,
  startRedisCluster,
} from "../testing/redis_cluster.ts";
import {
  currentRuntime,
  startApp,
  testSeveralServers,
} from "./_shared_store_servers.ts";

// Started here rather than in a hook: Bun gives a hook 5 seconds, which a
// busy machine can take to start it.
const cluster: RedisCluster = await startRedisCluster();

describe("several servers, one Redis Cluster", () => {
  const secret = randomBytes(32).toString("base64");

  after(async () => {
    await cluster.stop();
  });

  testSeveralServers(
    "redis store on Redis Cluster",
    (name) =>
      startApp(currentRuntime(), {
        SESSION_STORE: "redis-cluster",
        REDIS_CLUSTER_NODES: cluster.rootNodes.map(({ url }) => url).join(","),
        SESSION_SECRET: secret,
        SERVER_NAME: name,
      }),
  );
});
