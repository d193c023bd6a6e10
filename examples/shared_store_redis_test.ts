// check: runtimes deno bun node26; needs redis-server

// Two app servers, under the runtime running this test, share one Redis.

import { after, before, describe } from "node:test";
import { type RedisServer, startRedisServer } from "../testing/redis_server.ts";
import { testSeveralServers } from "./_shared_store_servers.ts";

describe("several servers, one Redis", () => {
  let redis: RedisServer;

  before(async () => {
    redis = await startRedisServer();
  });

  after(async () => {
    await redis?.stop();
  });

  testSeveralServers("redis store", () => ({
    SESSION_STORE: "redis",
    REDIS_URL: redis.url,
  }));
});
