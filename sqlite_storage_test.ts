// check: runtimes deno bun node26

// node:sqlite exists in Deno, Bun and Node 22.13 and later; under Bun the
// suite runs on bun:sqlite too.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createSqliteSessionStorage,
  type SqliteDatabase,
} from "./sqlite_storage.ts";
import type { SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import { repoPath } from "./testing/repo_root.ts";
import { request } from "./conformance/_harness.ts";

const folder = mkdtempSync(join(tmpdir(), "x-session-sqlite-"));
after(() => rmSync(folder, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(folder, `sessions-${++files}.db`);

interface Row {
  id: string;
  data: string;
  version: number;
  expires: number | null;
}

function rows(database: DatabaseSync, table = "sessions"): Row[] {
  return database.prepare(`SELECT * FROM "${table}"`).all() as unknown as Row[];
}

// Runs the suite on databases that `open` opens, one file per case, closed
// after it: what an app does.
function testDriver(
  name: string,
  open: (path: string) => SqliteDatabase & { close(): void },
) {
  const databases = new Map<SessionStorage, { close(): void }>();
  const fileOf = new Map<SessionStorage, string>();
  testSessionStorage({
    name,
    create(options) {
      const file = freshFile();
      const database = open(file);
      const storage = createSqliteSessionStorage(database, options);
      databases.set(storage, database);
      fileOf.set(storage, file);
      return storage;
    },
    reopen(storage, options) {
      const database = open(fileOf.get(storage)!);
      const reopened = createSqliteSessionStorage(database, options);
      databases.set(reopened, database);
      return reopened;
    },
    cleanup: (storage) => databases.get(storage)?.close(),
    ttl: 0.5,
    maxLifetime: 1,
    index: true,
    maxValueBytes: 1_000_000,
  });
}

testDriver("sqlite store", (path) => new DatabaseSync(path));

// Bun's own driver, which has the same shape.
if ("Bun" in globalThis) {
  const driver = "bun:sqlite";
  const { Database } = await import(driver) as {
    Database: new (path: string) => SqliteDatabase & { close(): void };
  };
  testDriver("sqlite store on bun:sqlite", (path) => new Database(path));
}

describe("sqlite store", () => {
  it("sqlite store: a session is one row with its id, its JSON, a version and its expiry", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database, { ttl: 3600 });
    const before = Date.now();
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const [row] = rows(database);
    assert.equal(row.id, cookie);
    assert.deepEqual(JSON.parse(row.data).d, [{ n: 1 }, {}]);
    assert.ok(
      row.expires! >= before + 3_600_000 &&
        row.expires! <= Date.now() + 3_600_000,
    );
    await request(storage, cookie, (s) => s.set("n", 2));
    assert.equal(rows(database)[0].version, row.version + 1);
  });

  it("sqlite store: without a ttl the expiry column is NULL", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database);
    await request(storage, null, (s) => s.set("n", 1));
    assert.equal(rows(database)[0].expires, null);
  });

  it("sqlite store: a save that renews the expiry moves the expiry column with it", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database, { ttl: 3600 });
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const [first] = rows(database);
    // A later millisecond, so that the renewed expiry differs.
    while (Date.now() <= first.expires! - 3_600_000) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await request(storage, cookie, (s) => s.set("n", 2));
    const [second] = rows(database);
    assert.ok(second.expires! > first.expires!);
    assert.equal(second.expires, JSON.parse(second.data).e);
  });

  it("sqlite store: sessions outlive the process: a store on the reopened file reads them", async () => {
    const file = freshFile();
    const first = new DatabaseSync(file);
    const { cookie } = await request(
      createSqliteSessionStorage(first),
      null,
      (s) => s.set("user", "mj"),
    );
    first.close();
    const second = new DatabaseSync(file);
    const session = await createSqliteSessionStorage(second).read(cookie);
    assert.equal(session.get("user"), "mj");
    second.close();
  });

  it("sqlite store: a file database is switched to WAL, and a busy timeout is set unless one was", () => {
    const file = freshFile();
    const database = new DatabaseSync(file);
    createSqliteSessionStorage(database);
    const pragma = (name: string) =>
      Object.values(database.prepare(`PRAGMA ${name}`).get()!)[0];
    assert.equal(pragma("journal_mode"), "wal");
    assert.equal(pragma("busy_timeout"), 5000);
    database.close();
    const patient = new DatabaseSync(file, { timeout: 12_345 });
    createSqliteSessionStorage(patient);
    assert.equal(
      Object.values(patient.prepare("PRAGMA busy_timeout").get()!)[0],
      12_345,
    );
    patient.close();
  });

  it("sqlite store: deleteExpired deletes exactly the expired rows through the expiry index", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database, { ttl: 3600 });
    const forever = createSqliteSessionStorage(database);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await request(storage, null, (s) => s.set("i", i))).cookie!);
    }
    // Written while the store had no ttl: under one, it counts as expired.
    await request(forever, null, (s) => s.set("unbounded", true));
    database.prepare("UPDATE sessions SET expires = ? WHERE id IN (?, ?, ?)")
      .run(Date.now() - 1, ids[0], ids[1], ids[2]);
    assert.equal(await storage.deleteExpired(), 4);
    assert.deepEqual(
      rows(database).map((row) => row.id).sort(),
      [ids[3], ids[4]].sort(),
    );
    assert.equal(await storage.deleteExpired(), 0);
    const plan = (sql: string) =>
      database.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(Date.now())
        .map((step) => String(step.detail)).join("\n");
    assert.match(
      plan("DELETE FROM sessions WHERE expires <= ?"),
      /USING (COVERING )?INDEX sessions_expires/,
    );
    assert.match(
      plan("DELETE FROM sessions WHERE expires IS NULL AND ? > 0"),
      /USING (COVERING )?INDEX sessions_no_expiry/,
    );
  });

  it("sqlite store: an expired row reads as a new session and is deleted", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database, { ttl: 3600 });
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const record = JSON.parse(rows(database)[0].data);
    record.e = Date.now() - 1;
    database.prepare("UPDATE sessions SET data = ?, expires = ?").run(
      JSON.stringify(record),
      record.e,
    );
    const session = await storage.read(cookie);
    assert.notEqual(session.id, cookie);
    assert.equal(session.get("n"), undefined);
    assert.deepEqual(rows(database), []);
  });

  it("sqlite store: an adopted id takes over the expired row left under it", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database, {
      ttl: 3600,
      useUnknownIds: true,
    });
    await request(storage, "chosen-id", (s) => s.set("n", 1));
    database.prepare("UPDATE sessions SET expires = ?, data = ?").run(
      Date.now() - 1,
      JSON.stringify({ d: [{ n: 1 }, {}], e: Date.now() - 1 }),
    );
    // Read while expired: a new session under the same id, saved over it.
    const { session } = await request(
      storage,
      "chosen-id",
      (s) => s.set("n", 2),
    );
    assert.equal(session.id, "chosen-id");
    assert.equal((await storage.read("chosen-id")).get("n"), 2);
    assert.equal(rows(database).length, 1);
  });

  it("sqlite store: the table option keeps two stores in one database apart", async () => {
    const database = new DatabaseSync(":memory:");
    const one = createSqliteSessionStorage(database, { table: "app_one" });
    const two = createSqliteSessionStorage(database, { table: "app_two" });
    const { cookie } = await request(one, null, (s) => s.set("n", 1));
    assert.notEqual((await two.read(cookie)).id, cookie);
    assert.equal(rows(database, "app_one").length, 1);
    assert.equal(rows(database, "app_two").length, 0);
  });

  it("sqlite store: login with regenerateId(true) moves the row, leaving none under the old id", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database);
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    const login = await request(storage, visit.cookie, (s) => {
      s.set("userId", "mj");
      s.regenerateId(true);
    });
    assert.deepEqual(rows(database).map((row) => row.id), [login.cookie]);
  });

  it("sqlite store: a closed database rejects with an error that names no session id", async () => {
    const database = new DatabaseSync(":memory:");
    const storage = createSqliteSessionStorage(database);
    database.close();
    await assert.rejects(storage.read("secret-session-id"), (error: Error) => {
      assert.match(error.message, /createSqliteSessionStorage: could not read/);
      assert.doesNotMatch(error.message, /secret-session-id/);
      return true;
    });
  });

  it("sqlite store: a database it cannot write to is refused at creation with an error naming the store", () => {
    const file = freshFile();
    new DatabaseSync(file).close();
    const readOnly = new DatabaseSync(file, { readOnly: true });
    assert.throws(
      () => createSqliteSessionStorage(readOnly),
      /^Error: createSqliteSessionStorage: could not set up the table "sessions" \(.*readonly/,
    );
    readOnly.close();
  });

  it("sqlite store: bad arguments are refused with errors naming them", () => {
    const database = new DatabaseSync(":memory:");
    for (const table of ["", "1st", 'x"; DROP TABLE y; --', "a.b", 42]) {
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => createSqliteSessionStorage(database, { table: table as any }),
        /createSqliteSessionStorage: option "table" must be a plain SQL name/,
      );
    }
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createSqliteSessionStorage({ prepare() {} } as any),
      /argument "database" must be a SQLite database with a "exec" method/,
    );
    assert.throws(
      () => createSqliteSessionStorage(database, { ttl: 0 }),
      /option "ttl" must be a positive number/,
    );
  });

  it("sqlite store: nothing mod.ts imports names a SQLite driver, so it loads where there is none", () => {
    const seen = new Set<string>();
    const pending = ["mod.ts"];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      // The code without its comments: the JSDoc examples import drivers.
      const source = readFileSync(repoPath(file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
      assert.doesNotMatch(
        source,
        /^\s*(import|export)\b[^;]*["'](node|bun):sqlite["']/m,
        file,
      );
      assert.doesNotMatch(source, /import\(\s*["'](node|bun):sqlite/, file);
      for (const [, path] of source.matchAll(/from\s+"\.\/([^"]+\.ts)"/g)) {
        pending.push(path);
      }
    }
    assert.ok(seen.has("sqlite_storage.ts"), [...seen].join(", "));
  });
});
