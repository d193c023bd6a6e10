// The child process of watchdog_test.ts: starts the servers the tests use,
// prints their ports as one line of JSON, and waits to be killed (or gives
// up after a minute).
//
// Usage: deno run -A testing/watchdog_child.ts

import process from "node:process";
import { startPostgresServer } from "./postgres_server.ts";
import { startRedisCluster } from "./redis_cluster.ts";
import { startRedisServer } from "./redis_server.ts";

const postgres = await startPostgresServer();
const redis = await startRedisServer();
const cluster = await startRedisCluster();
process.stdout.write(
  JSON.stringify({
    postgres: postgres.port,
    redis: redis.port,
    cluster: cluster.nodes.map((node) => node.port),
  }) + "\n",
);
setTimeout(() => process.exit(1), 60_000);
