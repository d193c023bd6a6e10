import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Buffer } from "node:buffer";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import { testSessionStorage } from "./conformance/mod.ts";

describe("cookie store", () => {
  it("cookie store: the cookie value carries the id and the data", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("user", { name: "Zoë 🐙" });
    const cookie = await storage.save(session);
    assert.match(cookie!, /^[A-Za-z0-9_-]+$/);
    const again = await createCookieSessionStorage().read(cookie);
    assert.equal(again.id, session.id);
    assert.deepEqual(again.get("user"), { name: "Zoë 🐙" });
  });

  it("cookie store: garbage, truncated and wrongly shaped values read as a new session", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = (await storage.save(session))!;
    const wrongShapes = [
      "{}",
      "[]",
      '{"i":"x","d":{},"e":null}',
      '{"i":"","d":[{},{}],"e":null}',
    ];
    const values = [
      "",
      "%%%",
      "not base64 !",
      cookie.slice(0, -3),
      `${cookie}==`,
      "x".repeat(100_000),
      ...wrongShapes.map((text) => Buffer.from(text).toString("base64url")),
    ];
    for (const value of values) {
      const read = await storage.read(value);
      assert.equal(read.size, 0, `read data from ${value.slice(0, 40)}`);
      assert.notEqual(read.id, session.id);
    }
  });

  it("cookie store: a session past its ttl reads as new", async () => {
    const storage = createCookieSessionStorage({ ttl: 0.05 });
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    assert.equal((await storage.read(cookie)).get("n"), 1);
    await sleep(80);
    assert.equal((await storage.read(cookie)).get("n"), undefined);
  });

  it("cookie store: destroy clears the cookie", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.destroy();
    assert.equal(await storage.save(session), "");
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
});
