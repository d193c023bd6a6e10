// check: needs redis-server

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "redis";
import { RedisStore } from "connect-redis";
import { type RedisServer, startRedisServer } from "./testing/redis_server.ts";
import { fromExpressStore } from "./express_store.ts";
import { testSessionStorage } from "./conformance/mod.ts";

let server: RedisServer;
let client: ReturnType<typeof createClient>;
let prefixCount = 0;

// Each case works under a prefix of its own, so cases never see each
// other's sessions.
function storeWithPrefix() {
  const prefix = `case${++prefixCount}:`;
  return { prefix, store: new RedisStore({ client, prefix }) };
}

describe("connect-redis", () => {
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
    name: "connect-redis",
    create: ({ ttl }) => fromExpressStore(storeWithPrefix().store, { ttl }),
    ttl: 0.5,
  });

  it("connect-redis: the key expires with the session's ttl", async () => {
    const { prefix, store } = storeWithPrefix();
    const storage = fromExpressStore(store, { ttl: 120 });
    const visitor = await storage.read(null);
    visitor.set("user", "mj");
    const id = await storage.save(visitor);
    const seconds = await client.ttl(`${prefix}${id}`);
    assert.ok(seconds > 100 && seconds <= 120, `ttl of ${seconds} s`);
  });
});
