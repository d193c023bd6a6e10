import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import { withClock } from "./testing/clock.ts";

describe("memory store", () => {
  it("memory store: useUnknownIds adopts an id it does not hold", async () => {
    const storage = createMemorySessionStorage({ useUnknownIds: true });
    assert.equal((await storage.read("known-to-client")).id, "known-to-client");
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

  it("memory store: an unchanged session is written again only once less than half its ttl is left", () =>
    withClock(async (clock) => {
      const storage = createMemorySessionStorage({ ttl: 60 });
      const session = await storage.read(null);
      session.set("n", 1);
      const cookie = await storage.save(session);
      const saved = clock.now;
      clock.now = saved + 30_000;
      assert.equal(await storage.save(await storage.read(cookie)), null);
      clock.now = saved + 30_001;
      assert.equal(await storage.save(await storage.read(cookie)), cookie);
      // Renewed: alive a full ttl after the renewal, not after the first save.
      clock.now = saved + 30_001 + 59_999;
      assert.equal((await storage.read(cookie)).get("n"), 1);
    }));

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

  it("memory store: a ttl or maxLifetime too long for a date is refused, where it ended every session at once", async () => {
    // 1e306 seconds is Infinity milliseconds: the expiry of every session
    // was "never", which a store with a ttl reads as expired.
    for (const name of ["ttl", "maxLifetime"] as const) {
      assert.throws(
        () => createMemorySessionStorage({ [name]: 1e306 }),
        new RegExp(
          `^RangeError: createMemorySessionStorage: option "${name}" must ` +
            "be a positive number of seconds, at most 1e12 \\(about 31,700 years\\), got 1e\\+306\\.",
        ),
      );
      const storage = createMemorySessionStorage({ [name]: 1e12 });
      const session = await storage.read(null);
      session.set("n", 1);
      const cookie = (await storage.save(session))!;
      assert.equal((await storage.read(cookie)).get("n"), 1);
    }
  });
});

testSessionStorage({
  name: "memory store",
  create: (options) => createMemorySessionStorage(options),
  ttl: 0.5,
  maxLifetime: 1,
  index: true,
  maxValueBytes: 1_000_000,
  cookieSafeValues: true,
});
