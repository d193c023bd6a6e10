// The conformance suite run on the Redis store, against a redis-server the
// test starts on a free loopback port.

import { after, before, describe } from "node:test";
import { createClient } from "redis";
import { type RedisServer, startRedisServer } from "../_redis_server.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { testSessionStorage } from "./mod.ts";

let server: RedisServer;
let client: ReturnType<typeof createClient>;
let stores = 0;

describe("redis store conformance", () => {
  before(async () => {
    server = await startRedisServer();
    client = createClient({ url: server.url });
    await client.connect();
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
  });

  testSessionStorage({
    name: "redis store",
    // A prefix per case gives each case an empty store in the one server.
    create: ({ ttl }) =>
      createRedisSessionStorage(client, {
        prefix: `conformance${++stores}:`,
        ttl,
      }),
    ttl: 0.5,
    maxValueBytes: 1_000_000,
  });
});
