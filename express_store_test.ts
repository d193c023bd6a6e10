import { describe, it } from "node:test";
import assert from "node:assert/strict";
import session from "express-session";
import createMemoryStore from "memorystore";
import {
  type ExpressSessionRecord,
  type ExpressStore,
  fromExpressStore,
} from "./express_store.ts";
import { testSessionStorage } from "./conformance/mod.ts";

const MemoryStore = createMemoryStore(session);

testSessionStorage({
  name: "express-session's MemoryStore",
  create: ({ ttl }) => fromExpressStore(new session.MemoryStore(), { ttl }),
  ttl: 0.5,
});

testSessionStorage({
  name: "memorystore",
  create: ({ ttl }) => fromExpressStore(new MemoryStore({}), { ttl }),
  ttl: 0.5,
});

/** express-session's MemoryStore, with the names of the calls it gets. */
function recordingStore(calls: string[]): ExpressStore {
  const store: ExpressStore = new session.MemoryStore();
  return {
    get: (sid, callback) => (calls.push("get"), store.get(sid, callback)),
    set: (sid, record, callback) => (
      calls.push("set"), store.set(sid, record, callback)
    ),
    destroy: (sid, callback) => (
      calls.push("destroy"), store.destroy(sid, callback)
    ),
  };
}

describe("express store bridge", () => {
  it("express store bridge: the store is told when the session expires", async () => {
    const records: ExpressSessionRecord[] = [];
    const store = new session.MemoryStore();
    const storage = fromExpressStore({
      get: (sid, callback) => store.get(sid, callback),
      set(sid, record, callback) {
        records.push(record);
        store.set(sid, record as unknown as session.SessionData, callback);
      },
      destroy: (sid, callback) => store.destroy(sid, callback),
    }, { ttl: 60 });
    const visitor = await storage.read(null);
    visitor.set("user", "mj");
    const before = Date.now();
    await storage.save(visitor);
    const { cookie } = records[0];
    // Milliseconds left, as express-session's stores read them.
    assert.ok(cookie.maxAge! > 55_000 && cookie.maxAge! <= 60_000);
    assert.equal(cookie.originalMaxAge, cookie.maxAge);
    const expires = new Date(cookie.expires!).getTime();
    assert.ok(expires >= before + 60_000 && expires <= Date.now() + 60_000);
  });

  it("express store bridge: an unchanged session is written again once half its ttl is gone", async () => {
    const calls: string[] = [];
    const storage = fromExpressStore(recordingStore(calls), { ttl: 0.2 });
    const visitor = await storage.read(null);
    visitor.set("user", "mj");
    const id = await storage.save(visitor);
    assert.equal(await storage.save(await storage.read(id)), null);
    await new Promise((resolve) => setTimeout(resolve, 120));
    calls.length = 0;
    assert.equal(await storage.save(await storage.read(id)), id);
    // One get to read; the save checks the record is still the one read,
    // then writes.
    assert.deepEqual(calls, ["get", "get", "set"]);
    assert.equal((await storage.read(id)).get("user"), "mj");
  });

  it("express store bridge: a session express-session itself wrote reads as a new session", async () => {
    const store = new session.MemoryStore();
    store.set("written-by-express-session", {
      cookie: { originalMaxAge: null } as session.Cookie,
      user: "mj",
    } as session.SessionData);
    const storage = fromExpressStore(store);
    const read = await storage.read("written-by-express-session");
    assert.notEqual(read.id, "written-by-express-session");
    assert.equal(read.get("user"), undefined);
  });

  it("express store bridge: an error of the store rejects, naming its cause", async () => {
    const storage = fromExpressStore({
      get: (_sid, callback) => callback(new Error("connection refused")),
      set: (_sid, _record, callback) => callback?.(new Error("read-only")),
      destroy: (_sid, callback) => callback?.(),
    });
    await assert.rejects(
      storage.read("some-id"),
      /^Error: fromExpressStore: could not read a session \(connection refused\)/,
    );
    const visitor = await storage.read(null);
    visitor.set("user", "mj");
    await assert.rejects(
      storage.save(visitor),
      /could not (read|save) a session \((connection refused|read-only)\)/,
    );
  });

  it("express store bridge: a store without get, set or destroy, or a bad ttl, is refused", () => {
    assert.throws(
      () => fromExpressStore({} as ExpressStore),
      /^TypeError: fromExpressStore: argument "store" must be an express-session store with a "get" method/,
    );
    for (const ttl of [0, -1, Number.NaN, Infinity]) {
      assert.throws(
        () => fromExpressStore(new session.MemoryStore(), { ttl }),
        /^RangeError: fromExpressStore: option "ttl" must be a positive number of seconds/,
      );
    }
  });

  it("express store bridge: indexBy is refused, not ignored: the bridge keeps no per-user index", () => {
    assert.throws(
      () => fromExpressStore(new session.MemoryStore(), { indexBy: "userId" }),
      /^TypeError: fromExpressStore: option "indexBy" is not supported: this store keeps no per-user index, got a string of 6 characters\./,
    );
  });
});
