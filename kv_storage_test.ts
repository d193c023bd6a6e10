// Runs under Deno with --unstable-kv (Deno.openKv), and under Node and Bun
// with the @deno/kv package.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createKvSessionStorage,
  type KvKey,
  type KvSessionDatabase,
  type KvSessionStorageOptions,
} from "./kv_storage.ts";
import type { Session, SessionStorage } from "./session.ts";
import { openKv, type TestKv } from "./testing/deno_kv.ts";
import { testSessionStorage } from "./conformance/mod.ts";

type Kv = TestKv;

async function readBytes(kv: Kv, key: KvKey) {
  const { value } = await kv.get(key);
  return value instanceof Uint8Array
    ? JSON.parse(new TextDecoder().decode(value))
    : value;
}

async function request(
  storage: SessionStorage,
  cookie: string | null,
  change: (session: Session) => void = () => {},
) {
  const session = await storage.read(cookie);
  change(session);
  const saved = await storage.save(session);
  return { session, cookie: saved === null ? cookie : saved };
}

// Wraps a database and records the operations the store sends.
function recording(kv: Kv, operations: string[]): KvSessionDatabase {
  return {
    get: (key) => (operations.push("get"), kv.get(key)),
    delete: (key) => (operations.push("delete"), kv.delete(key)),
    atomic: () => (operations.push("atomic"), kv.atomic()),
  };
}

/** The keys of the per-user index under the default prefix. */
async function indexKeys(kv: Kv): Promise<KvKey[]> {
  const keys: KvKey[] = [];
  const entries = kv.list!({ prefix: ["session", "user"] });
  for await (const { key } of entries as AsyncIterable<{ key: KvKey }>) {
    keys.push(key);
  }
  return keys;
}

function storeTests(backend: string, open: () => Promise<Kv>) {
  async function withKv(test: (kv: Kv) => Promise<void>) {
    const kv = await open();
    try {
      await test(kv);
    } finally {
      kv.close();
    }
  }

  describe(`kv store (${backend})`, () => {
    it("kv store: a session is one entry under [...prefix, id] holding JSON bytes", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { prefix: ["app", 1] });
        const { cookie } = await request(
          storage,
          null,
          (s) => s.set("user", { name: "mj" }),
        );
        assert.ok(cookie);
        const record = await readBytes(kv, ["app", 1, cookie]);
        assert.deepEqual(record.d, [{ user: { name: "mj" } }, {}]);
        assert.equal(record.e, null);
      }));

    it('kv store: the default prefix is ["session"]', () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv);
        const { cookie } = await request(storage, null, (s) => s.set("n", 1));
        assert.ok((await readBytes(kv, ["session", cookie!])).d);
      }));

    it("kv store: stores with different prefixes do not see each other's sessions", () =>
      withKv(async (kv) => {
        const one = createKvSessionStorage(kv, { prefix: ["one"] });
        const two = createKvSessionStorage(kv, { prefix: ["two"] });
        const { cookie } = await request(one, null, (s) => s.set("n", 1));
        const other = await two.read(cookie);
        assert.notEqual(other.id, cookie);
        assert.equal(other.get("n"), undefined);
      }));

    it("kv store: an untouched session writes nothing on save", () =>
      withKv(async (kv) => {
        const operations: string[] = [];
        const storage = createKvSessionStorage(recording(kv, operations));
        assert.equal(await storage.save(await storage.read(null)), null);
        assert.deepEqual(operations, []);
      }));

    it("kv store: useUnknownIds adopts an id it does not hold", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { useUnknownIds: true });
        const session = await storage.read("known-to-client");
        assert.equal(session.id, "known-to-client");
        session.set("n", 1);
        assert.equal(await storage.save(session), "known-to-client");
        assert.equal((await storage.read("known-to-client")).get("n"), 1);
      }));

    it("kv store: a cookie too long for a KV key reads as a new session, even with useUnknownIds", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { useUnknownIds: true });
        for (const cookie of ["x".repeat(513), "é".repeat(3000)]) {
          const session = await storage.read(cookie);
          assert.notEqual(session.id, cookie);
          session.set("n", 1);
          assert.equal(await storage.save(session), session.id);
        }
        const longest = "x".repeat(512);
        assert.equal((await storage.read(longest)).id, longest);
      }));

    it("kv store: a corrupt entry reads as a new session with a new id", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv);
        const encode = (text: string) => new TextEncoder().encode(text);
        for (const garbage of [encode("not json"), encode("[1]"), encode("")]) {
          await kv.set(["session", "corrupt"], garbage);
          const session = await storage.read("corrupt");
          assert.notEqual(session.id, "corrupt");
          assert.equal(session.size, 0);
        }
      }));

    it("kv store: login with regenerateId(true) moves the session in one atomic commit, leaving no entry under the old id", () =>
      withKv(async (kv) => {
        const operations: string[] = [];
        const storage = createKvSessionStorage(recording(kv, operations));
        const visit = await request(
          storage,
          null,
          (s) => s.set("theme", "dark"),
        );
        operations.length = 0;
        const login = await request(storage, visit.cookie, (s) => {
          s.set("userId", "mj");
          s.regenerateId(true);
        });
        assert.deepEqual(operations, ["get", "atomic"]);
        assert.notEqual(login.cookie, visit.cookie);
        assert.equal((await kv.get(["session", visit.cookie!])).value, null);
      }));

    it("kv store: an expired entry still in the database reads as a new session and is deleted", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { ttl: 3600 });
        const { cookie } = await request(storage, null, (s) => s.set("n", 1));
        const key = ["session", cookie!];
        const record = await readBytes(kv, key);
        record.e = Date.now() - 1;
        await kv.set(key, new TextEncoder().encode(JSON.stringify(record)));
        const session = await storage.read(cookie);
        assert.notEqual(session.id, cookie);
        assert.equal((await kv.get(key)).value, null);
      }));

    it("kv store: an unchanged session in use is renewed once less than half its ttl is left", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { ttl: 3600 });
        const { cookie } = await request(storage, null, (s) => s.set("n", 1));
        assert.equal(await storage.save(await storage.read(cookie)), null);
        const key = ["session", cookie!];
        const record = await readBytes(kv, key);
        record.e = Date.now() + 1_000_000;
        await kv.set(key, new TextEncoder().encode(JSON.stringify(record)));
        assert.equal(await storage.save(await storage.read(cookie)), cookie);
        const renewed = await readBytes(kv, key);
        assert.ok(renewed.e > Date.now() + 1_800_000);
      }));

    it("kv store: a session over KV's 64 KiB value limit is refused with an error giving its size", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv);
        const fits = await request(
          storage,
          null,
          (s) => s.set("blob", "x".repeat(60_000)),
        );
        const session = await storage.read(fits.cookie);
        session.set("blob", "x".repeat(70_000));
        await assert.rejects(storage.save(session), (error: Error) => {
          assert.ok(error instanceof RangeError);
          assert.match(error.message, /session of 700\d\d bytes/);
          assert.match(error.message, /at most 65536 bytes/);
          assert.doesNotMatch(error.message, new RegExp(session.id));
          return true;
        });
        const stored = await storage.read(fits.cookie);
        assert.equal((stored.get("blob") as string).length, 60_000);
      }));

    it("kv store: a value JSON cannot write is refused with a clear error", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv);
        const session = await storage.read(null);
        session.set("big", 1n);
        await assert.rejects(storage.save(session), /JSON-serializable/);
      }));

    it("kv store: bad options are refused with errors naming them", () =>
      withKv(async (kv) => {
        assert.throws(
          () => createKvSessionStorage(kv, { ttl: 0 }),
          /createKvSessionStorage: option "ttl" must be a positive number/,
        );
        assert.throws(
          // deno-lint-ignore no-explicit-any
          () => createKvSessionStorage(kv, { prefix: "session" as any }),
          /option "prefix" must be an array of key parts/,
        );
        assert.throws(
          // deno-lint-ignore no-explicit-any
          () => createKvSessionStorage(kv, { prefix: [{}] as any }),
          /option "prefix" must be an array of key parts/,
        );
        assert.throws(
          // deno-lint-ignore no-explicit-any
          () => createKvSessionStorage({} as any),
          /argument "kv" must be a Deno KV database with a "get" method/,
        );
      }));

    it("kv store: a user with more index entries to drop than one KV commit takes is listed and logged out", () =>
      withKv(async (kv) => {
        const storage = createKvSessionStorage(kv, { indexBy: "userId" });
        const logIn = () =>
          request(storage, null, (s) => s.set("userId", "mj"));
        // 1,001 sessions that logged out with no listing since (an account
        // that logs in often): their entries are more than the 1,000
        // mutations a commit takes.
        for (let i = 0; i < 1001; i++) {
          await request(storage, (await logIn()).cookie, (s) => s.destroy());
        }
        const { cookie } = await logIn();
        assert.equal((await storage.listSessions("mj")).length, 1);
        assert.equal(await storage.destroySessions("mj"), 1);
        assert.equal((await storage.read(cookie)).size, 0);
        assert.deepEqual(await indexKeys(kv), []);
      }));

    it("kv store: a closed database rejects with an error that names no session id", async () => {
      const kv = await open();
      const storage = createKvSessionStorage(kv);
      kv.close();
      await assert.rejects(
        storage.read("secret-session-id"),
        (error: Error) => {
          assert.match(error.message, /createKvSessionStorage: could not read/);
          assert.doesNotMatch(error.message, /secret-session-id/);
          return true;
        },
      );
    });
  });
}

storeTests("in memory", () => openKv(":memory:"));
conformance("kv store (in memory)", () => ":memory:");

const folder = mkdtempSync(join(tmpdir(), "kv-session-test-"));
let files = 0;
storeTests("file-backed", () => openKv(join(folder, `kv${++files}.sqlite`)));
conformance(
  "kv store (file-backed)",
  () => join(folder, `conformance${++files}.sqlite`),
);

function conformance(name: string, path: () => string) {
  const databases = new WeakMap<object, TestKv>();
  const paths = new WeakMap<object, string>();
  const opened = async (file: string, options: KvSessionStorageOptions) => {
    const kv = await openKv(file);
    const storage = createKvSessionStorage(kv, options);
    databases.set(storage, kv);
    paths.set(storage, file);
    return storage;
  };
  testSessionStorage({
    name,
    create: (options) => opened(path(), options),
    // An in-memory database cannot be opened twice.
    ...path() === ":memory:"
      ? {}
      : { reopen: (storage, options) => opened(paths.get(storage)!, options) },
    maxLifetime: 1,
    index: true,
    cleanup(storage) {
      databases.get(storage)?.close();
    },
    ttl: 0.5,
    // Deno KV's limit is 65536 bytes per value, record fields included.
    maxValueBytes: 65_000,
    cookieSafeValues: true,
  });
}

describe("kv store (file-backed, reopened)", () => {
  it("kv store: sessions outlive the process's handle on a file-backed database", async () => {
    const path = join(folder, "reopened.sqlite");
    const first = await openKv(path);
    const { cookie } = await request(
      createKvSessionStorage(first, { ttl: 3600 }),
      null,
      (s) => s.set("userId", "mj"),
    );
    first.close();
    const second = await openKv(path);
    try {
      const session = await createKvSessionStorage(second, { ttl: 3600 })
        .read(cookie);
      assert.equal(session.id, cookie);
      assert.equal(session.get("userId"), "mj");
    } finally {
      second.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
