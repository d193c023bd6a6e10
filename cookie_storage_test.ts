import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import { withClock } from "./testing/clock.ts";

describe("cookie store", () => {
  it("cookie store: the cookie value carries the id and the data, so any instance reads it", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("user", { name: "Zoë 🐙" });
    const cookie = await storage.save(session);
    assert.match(cookie!, /^[A-Za-z0-9_-]+$/);
    const again = await createCookieSessionStorage().read(cookie);
    assert.equal(again.id, session.id);
    assert.deepEqual(again.get("user"), { name: "Zoë 🐙" });
  });

  it("cookie store: base64url of wrongly shaped records reads as a new session", async () => {
    const storage = createCookieSessionStorage();
    const wrongShapes = [
      "{}",
      "[]",
      '{"i":"x","d":{},"e":null}',
      '{"i":"","d":[{},{}],"e":null}',
      '{"d":[{"n":1},{}],"e":null}',
    ];
    for (const text of wrongShapes) {
      const read = await storage.read(Buffer.from(text).toString("base64url"));
      assert.equal(read.size, 0, `read data from ${text}`);
    }
  });

  it("cookie store: a session expires at exactly its ttl, not a millisecond later", () =>
    withClock(async (clock) => {
      const storage = createCookieSessionStorage({ ttl: 60 });
      const session = await storage.read(null);
      session.set("n", 1);
      const cookie = await storage.save(session);
      const saved = clock.now;
      clock.now = saved + 59_999;
      assert.equal((await storage.read(cookie)).get("n"), 1);
      clock.now = saved + 60_000;
      const expired = await storage.read(cookie);
      assert.notEqual(expired.id, session.id);
      assert.equal(expired.get("n"), undefined);
    }));

  it("cookie store: regenerateId(true) warns once per storage that the old cookie stays valid until its ttl", async () => {
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      const storage = createCookieSessionStorage({ ttl: 60 });
      const other = createCookieSessionStorage({ ttl: 60 });
      const first = await storage.read(null);
      first.set("n", 1);
      first.regenerateId();
      await storage.save(first);
      assert.equal(warnings.length, 0, "regenerateId() without true");
      for (const target of [storage, storage, other]) {
        const session = await target.read(null);
        session.set("n", 1);
        session.regenerateId(true);
        await target.save(session);
      }
      assert.equal(warnings.length, 2, "once for each of the two storages");
      const message = String(warnings[0][0]);
      assert.match(message, /old cookie stays valid until its ttl/);
      assert.match(message, /use a server-side store/);
    } finally {
      console.warn = warn;
    }
  });

  it("cookie store: a value that is not JSON-serializable is refused with a clear error", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("big", 10n);
    await assert.rejects(storage.save(session), /JSON-serializable/);
  });
});

testSessionStorage({
  name: "cookie store",
  create: ({ ttl, maxLifetime }) =>
    createCookieSessionStorage({ ttl, maxLifetime }),
  dataInCookie: true,
  ttl: 0.5,
  maxLifetime: 1,
  // Base64url of a record this size stays under a browser's 4096 bytes.
  maxValueBytes: 3000,
  cookieSafeValues: true,
});
