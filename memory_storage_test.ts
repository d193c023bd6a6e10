import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { testSessionStorage } from "./conformance/mod.ts";

describe("memory store", () => {
  it("memory store: a saved session reads back with its id and data", async () => {
    const storage = createMemorySessionStorage();
    const session = await storage.read(null);
    session.set("user", { name: "mj", roles: ["admin"] });
    const cookie = await storage.save(session);
    assert.equal(cookie, session.id);
    const again = await storage.read(cookie);
    assert.equal(again.id, session.id);
    assert.deepEqual(again.get("user"), { name: "mj", roles: ["admin"] });
  });

  it("memory store: an untouched session saves nothing", async () => {
    const storage = createMemorySessionStorage();
    assert.equal(await storage.save(await storage.read(null)), null);
  });

  it("memory store: an id it does not hold is not adopted", async () => {
    const storage = createMemorySessionStorage();
    const session = await storage.read("attacker-chosen");
    assert.notEqual(session.id, "attacker-chosen");
  });

  it("memory store: useUnknownIds adopts an id it does not hold", async () => {
    const storage = createMemorySessionStorage({ useUnknownIds: true });
    assert.equal((await storage.read("known-to-client")).id, "known-to-client");
  });

  it("memory store: stored data is a copy, not shared with the session", async () => {
    const storage = createMemorySessionStorage();
    const session = await storage.read(null);
    const list = [1];
    session.set("list", list);
    const cookie = await storage.save(session);
    list.push(2);
    const first = await storage.read(cookie);
    (first.get("list") as number[]).push(3);
    assert.deepEqual((await storage.read(cookie)).get("list"), [1]);
  });

  it("memory store: the least recently used session is evicted past maxSessions", async () => {
    const storage = createMemorySessionStorage({ maxSessions: 2 });
    const cookies: string[] = [];
    for (const n of [1, 2]) {
      const session = await storage.read(null);
      session.set("n", n);
      cookies.push((await storage.save(session))!);
    }
    // Reading the first makes the second the least recently used.
    await storage.read(cookies[0]);
    const third = await storage.read(null);
    third.set("n", 3);
    cookies.push((await storage.save(third))!);
    assert.equal((await storage.read(cookies[0])).get("n"), 1);
    assert.equal((await storage.read(cookies[1])).get("n"), undefined);
    assert.equal((await storage.read(cookies[2])).get("n"), 3);
  });

  it("memory store: a session unused for longer than ttl reads as new", async () => {
    const storage = createMemorySessionStorage({ ttl: 0.05 });
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    await sleep(80);
    const expired = await storage.read(cookie);
    assert.notEqual(expired.id, session.id);
    assert.equal(expired.get("n"), undefined);
  });

  it("memory store: an unchanged session is written again only past half its ttl", async () => {
    const storage = createMemorySessionStorage({ ttl: 0.2 });
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    assert.equal(await storage.save(await storage.read(cookie)), null);
    await sleep(120);
    assert.equal(await storage.save(await storage.read(cookie)), cookie);
  });

  it("memory store: bad options throw and name the option and value", () => {
    assert.throws(
      () => createMemorySessionStorage({ maxSessions: 0 }),
      /"maxSessions" .* got 0/,
    );
    assert.throws(
      () => createMemorySessionStorage({ ttl: -1 }),
      /"ttl" .* got -1/,
    );
  });
});

testSessionStorage({
  name: "memory store",
  create: (options) => createMemorySessionStorage(options),
  ttl: 0.5,
  maxLifetime: 1,
  index: true,
  maxValueBytes: 1_000_000,
});
