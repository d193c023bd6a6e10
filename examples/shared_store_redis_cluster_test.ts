// check: runtimes deno bun node26; needs redis-cluster

// Two app servers, under the runtime running this test, share one Redis
// Cluster of 3 masters; one is killed with SIGKILL midway.

import { after, before, describe } from "node:test";
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

describe("several servers, one Redis Cluster", () => {
  let cluster: RedisCluster;
  const secret = randomBytes(32).toString("base64");

  before(async () => {
    cluster = await startRedisCluster();
  });

  after(async () => {
    await cluster?.stop();
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
