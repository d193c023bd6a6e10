// check: needs postgres

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import postgres from "postgres";
import {
  type PostgresServer,
  startPostgresServer,
} from "./testing/postgres_server.ts";
import {
  createPostgresSessionStorage,
  type PostgresSessionClient,
  type PostgresSessionStorage,
  type PostgresSessionStorageOptions,
  postgresSessionTableSql,
} from "./postgres_storage.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import type { SessionStorage } from "./session.ts";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { repoPath } from "./testing/repo_root.ts";
import { fromPostgresJs } from "./testing/postgres_clients.ts";
import { request } from "./conformance/_harness.ts";

// Started here rather than in a hook: Bun gives a hook 5 seconds, which a
// busy machine can take to start PostgreSQL.
const server: PostgresServer = await startPostgresServer();
// One connection each, as the conformance suite's overlapping-requests rules
// assume: a read sent before a save is answered before the save lands. Over
// several connections a read can run after a later save, which those rules
// take for a store bug; the test of overlapping requests over a pool below
// does without that assumption.
const pool = new pg.Pool({ connectionString: server.url, max: 1 });
const sql = postgres(server.url, { max: 1, onnotice: () => {} });
let tables = 0;

// Each test works in a table of its own.
const uniqueTable = () => `test_${++tables}`;

// Wraps the pool and records the statements the store sends.
function recordingClient(statements: string[]): PostgresSessionClient {
  return {
    query(statement) {
      statements.push(statement.text.split(" ").slice(0, 2).join(" "));
      return pool.query(statement);
    },
  };
}

interface Row {
  id: string;
  data: string;
  version: string;
  expires: string | null;
}

// The definitions of the indexes of `table`, with its name replaced by T.
async function indexes(table: string): Promise<{ def: string }[]> {
  return (await pool.query(
    "SELECT replace(indexdef, $1, 'T') AS def FROM pg_indexes " +
      "WHERE tablename = $1 ORDER BY indexname",
    [table],
  )).rows;
}

async function rows(table: string): Promise<Row[]> {
  return (await pool.query(`SELECT * FROM "${table}" ORDER BY id`)).rows;
}

describe("postgres store", () => {
  after(async () => {
    await pool.end();
    await sql.end();
    await server.stop();
  });

  // The index cases list a user's sessions: a table per case.
  const tablesOf = new Map<SessionStorage, string>();
  const opened = (storage: PostgresSessionStorage, table: string) => {
    tablesOf.set(storage, table);
    return storage;
  };
  testSessionStorage({
    name: "postgres store on pg",
    create: (options) => {
      const table = uniqueTable();
      return opened(
        createPostgresSessionStorage(pool, { ...options, table }),
        table,
      );
    },
    reopen: (storage, options) => {
      const table = tablesOf.get(storage)!;
      return opened(
        createPostgresSessionStorage(pool, { ...options, table }),
        table,
      );
    },
    ttl: 0.5,
    maxLifetime: 1,
    index: true,
    maxValueBytes: 1_000_000,
  });

  testSessionStorage({
    name: "postgres store on pg with prepare: false",
    create: (options) =>
      createPostgresSessionStorage(pool, {
        ...options,
        table: uniqueTable(),
        prepare: false,
      }),
    ttl: 0.5,
    maxLifetime: 1,
    index: true,
    maxValueBytes: 1_000_000,
  });

  testSessionStorage({
    name: "postgres store on postgres.js",
    create: (options) =>
      createPostgresSessionStorage(fromPostgresJs(sql), {
        ...options,
        table: uniqueTable(),
      }),
    ttl: 0.5,
    maxLifetime: 1,
    index: true,
    maxValueBytes: 1_000_000,
  });

  it("postgres store: a session is one row with its id, its JSON, a version and its expiry", async () => {
    const table = uniqueTable();
    const storage = createPostgresSessionStorage(pool, { table, ttl: 3600 });
    const before = Date.now();
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const [row] = await rows(table);
    assert.equal(row.id, cookie);
    assert.deepEqual(JSON.parse(row.data).d, [{ n: 1 }, {}]);
    const expires = Number(row.expires);
    assert.ok(
      expires >= before + 3_600_000 && expires <= Date.now() + 3_600_000,
    );
    await request(storage, cookie, (s) => s.set("n", 2));
    assert.equal(
      BigInt((await rows(table))[0].version),
      BigInt(row.version) + 1n,
    );
  });

  it("postgres store: the table and index it creates are what postgresSessionTableSql prints", async () => {
    const table = uniqueTable();
    await request(
      createPostgresSessionStorage(pool, { table }),
      null,
      (s) => s.set("n", 1),
    );
    const describe = async (name: string) =>
      (await pool.query(
        "SELECT column_name, data_type, is_nullable FROM " +
          "information_schema.columns WHERE table_name = $1 ORDER BY " +
          "ordinal_position",
        [name],
      )).rows;
    const printed = uniqueTable();
    await pool.query(postgresSessionTableSql(printed));
    assert.deepEqual(await describe(table), await describe(printed));
    const created = await indexes(table);
    assert.deepEqual(
      created.map((row) => row.def.replaceAll(table, "T")),
      (await indexes(printed)).map((row) => row.def.replaceAll(printed, "T")),
    );
    // The key, the expiry, the per-user index and the rows without expiry.
    assert.equal(created.length, 4);
  });

  it("postgres store: the README prints the SQL that postgresSessionTableSql gives", () => {
    const readme = readFileSync(repoPath("README.md"), "utf8");
    assert.ok(readme.includes("```sql\n" + postgresSessionTableSql() + "```"));
  });

  it("postgres store: servers that start at once on a missing table all work", async () => {
    // Without a lock, 4 servers creating one table at once fail about 1 time
    // in 3 (duplicate key in pg_type); 5 tables make a miss unlikely.
    const clients = Array.from(
      { length: 4 },
      () => new pg.Pool({ connectionString: server.url, max: 1 }),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const table = uniqueTable();
        await Promise.all(clients.map((client) =>
          request(
            createPostgresSessionStorage(client, { table }),
            null,
            (s) => s.set("n", 1),
          )
        ));
        assert.equal((await rows(table)).length, clients.length);
      }
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it("postgres store: createTable false creates nothing and says what is missing", async () => {
    const table = uniqueTable();
    const storage = createPostgresSessionStorage(pool, {
      table,
      createTable: false,
    });
    await assert.rejects(
      storage.read("secret-session-id"),
      (error: Error) => {
        assert.match(
          error.message,
          /createPostgresSessionStorage: could not read a session \(.*does not exist/,
        );
        assert.doesNotMatch(error.message, /secret-session-id/);
        return true;
      },
    );
    await pool.query(postgresSessionTableSql(table));
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    assert.equal((await storage.read(cookie)).get("n"), 1);
  });

  it("postgres store: deleteExpired deletes exactly the expired rows, and the expiry index serves it", async () => {
    const table = uniqueTable();
    const storage = createPostgresSessionStorage(pool, { table, ttl: 3600 });
    const forever = createPostgresSessionStorage(pool, { table });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await request(storage, null, (s) => s.set("i", i))).cookie!);
    }
    // Written while the store had no ttl: under one, it counts as expired.
    await request(forever, null, (s) => s.set("unbounded", true));
    await pool.query(
      `UPDATE "${table}" SET expires = $1 WHERE id IN ($2, $3, $4)`,
      [Date.now() - 1, ids[0], ids[1], ids[2]],
    );
    assert.equal(await storage.deleteExpired(), 4);
    assert.deepEqual(
      (await rows(table)).map((row) => row.id),
      [ids[3], ids[4]].sort(),
    );
    assert.equal(await storage.deleteExpired(), 0);
    const client = await pool.connect();
    try {
      // On a table this small the planner would rather scan it.
      await client.query("SET enable_seqscan = off");
      const plan = (await client.query(
        `EXPLAIN DELETE FROM "${table}" WHERE expires <= $1`,
        [Date.now()],
      )).rows.map((row) => row["QUERY PLAN"]).join("\n");
      assert.match(plan, new RegExp(`Index Scan .*${table}_expires`));
      const unbounded = (await client.query(
        `EXPLAIN DELETE FROM "${table}" WHERE expires IS NULL`,
      )).rows.map((row) => row["QUERY PLAN"]).join("\n");
      assert.match(unbounded, new RegExp(`Index Scan .*${table}_no_expiry`));
    } finally {
      await client.query("RESET enable_seqscan");
      client.release();
    }
  });

  it("postgres store: an expired row reads as a new session and is deleted", async () => {
    const table = uniqueTable();
    const storage = createPostgresSessionStorage(pool, { table, ttl: 3600 });
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    const record = JSON.parse((await rows(table))[0].data);
    record.e = Date.now() - 1;
    await pool.query(`UPDATE "${table}" SET data = $1, expires = $2`, [
      JSON.stringify(record),
      record.e,
    ]);
    const session = await storage.read(cookie);
    assert.notEqual(session.id, cookie);
    assert.equal(session.get("n"), undefined);
    assert.deepEqual(await rows(table), []);
  });

  it("postgres store: with useUnknownIds, an id too long for the primary key's index reads as a new session instead of failing its saves", async () => {
    const table = uniqueTable();
    const storage = createPostgresSessionStorage(pool, {
      table,
      useUnknownIds: true,
    });
    // 3,000 characters that do not compress: over the 2,704 bytes a btree
    // index entry may hold.
    const long = randomBytes(2250).toString("base64url");
    const { session, cookie } = await request(storage, long, (s) => {
      s.set("n", 1);
    });
    assert.notEqual(session.id, long);
    assert.equal((await storage.read(cookie)).get("n"), 1);
    const fits = "a".repeat(512);
    assert.equal((await storage.read(fits)).id, fits);
  });

  it("postgres store: a ttl and a maxLifetime that are no whole number of milliseconds save and read back", async () => {
    // 3600.0005 s and 7200.0005 s: expiries that end in half a millisecond,
    // which the bigint column cannot hold as they are.
    for (const options of [{ ttl: 3600.0005 }, { maxLifetime: 7200.0005 }]) {
      const table = uniqueTable();
      const storage = createPostgresSessionStorage(pool, { table, ...options });
      const { cookie } = await request(storage, null, (s) => s.set("n", 1));
      assert.equal((await storage.read(cookie)).get("n"), 1);
      const [row] = await rows(table);
      assert.ok(Number(row.expires) > Date.now());
    }
  });

  it("postgres store: login with regenerateId(true) moves the row in one statement", async () => {
    const table = uniqueTable();
    const statements: string[] = [];
    const storage = createPostgresSessionStorage(recordingClient(statements), {
      table,
    });
    const visit = await request(storage, null, (s) => s.set("theme", "dark"));
    statements.length = 0;
    const login = await request(storage, visit.cookie, (s) => {
      s.set("userId", "mj");
      s.regenerateId(true);
    });
    assert.deepEqual(statements, ["SELECT data,", "WITH old"]);
    assert.deepEqual((await rows(table)).map((row) => row.id), [login.cookie]);
  });

  it("postgres store: 10 overlapping requests over 4 connections, each setting its own key, lose no update", async () => {
    const connections = new pg.Pool({ connectionString: server.url, max: 4 });
    try {
      const storage = createPostgresSessionStorage(connections, {
        table: uniqueTable(),
      });
      for (let round = 0; round < 20; round++) {
        const { cookie } = await request(storage, null, (s) => s.set("n", 0));
        await Promise.all(
          Array.from(
            { length: 10 },
            (_, n) => request(storage, cookie, (s) => s.set(`key${n}`, n)),
          ),
        );
        const after = await storage.read(cookie);
        for (let n = 0; n < 10; n++) assert.equal(after.get(`key${n}`), n);
      }
    } finally {
      await connections.end();
    }
  });

  it("postgres store: the table option keeps two stores in one database apart", async () => {
    const one = createPostgresSessionStorage(pool, { table: uniqueTable() });
    const two = createPostgresSessionStorage(pool, { table: uniqueTable() });
    const { cookie } = await request(one, null, (s) => s.set("n", 1));
    assert.notEqual((await two.read(cookie)).id, cookie);
  });

  it("postgres store: an unreachable database rejects with an error that names no session id, and the store recovers", async () => {
    const table = uniqueTable();
    let reachable = false;
    const flaky: PostgresSessionClient = {
      query: (statement) =>
        reachable
          ? pool.query(statement)
          : Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")),
    };
    const storage = createPostgresSessionStorage(flaky, { table });
    await assert.rejects(storage.read("secret-session-id"), (error: Error) => {
      assert.match(
        error.message,
        /createPostgresSessionStorage: could not read a session \(connect ECONNREFUSED/,
      );
      assert.doesNotMatch(error.message, /secret-session-id/);
      return true;
    });
    reachable = true;
    const { cookie } = await request(storage, null, (s) => s.set("n", 1));
    assert.equal((await storage.read(cookie)).get("n"), 1);
  });

  it("postgres store: bad arguments are refused with errors naming them", () => {
    for (const table of ["", "1st", 'x"; DROP TABLE y; --', "a.b", 42]) {
      assert.throws(
        // deno-lint-ignore no-explicit-any
        () => createPostgresSessionStorage(pool, { table: table as any }),
        /createPostgresSessionStorage: option "table" must be a plain SQL name/,
      );
    }
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createPostgresSessionStorage(sql as any),
      /argument "client" must be a PostgreSQL client with a "query" method/,
    );
    assert.throws(
      () => createPostgresSessionStorage(pool, { ttl: -1 }),
      /option "ttl" must be a positive number/,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createPostgresSessionStorage(pool, { prepare: "yes" as any }),
      /option "prepare" must be true or false, got a string/,
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => createPostgresSessionStorage(pool, { createTable: 0 as any }),
      /option "createTable" must be true or false, got 0\./,
    );
    // PostgreSQL would cut the name of its "_no_expiry" index at 63 bytes.
    assert.throws(
      () => createPostgresSessionStorage(pool, { table: "t".repeat(54) }),
      /option "table" must be a plain SQL name .*at most 53 characters/,
    );
  });

  // Runs `use` on a pg Client of its own: one connection, whose prepared
  // statements it can list.
  async function onOneClient<T>(use: (client: pg.Client) => Promise<T>) {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return await use(client);
    } finally {
      await client.end();
    }
  }

  // What is prepared on the connection of `client`, by the protocol: the
  // first word of each statement.
  const prepared = async (client: pg.Client) =>
    (await client.query(
      "SELECT statement FROM pg_prepared_statements " +
        "WHERE NOT from_sql ORDER BY statement",
    )).rows.map((row) => (row.statement as string).split(" ")[0]);

  // What a store on one connection leaves prepared there after a new
  // session's save, then a read and save of it.
  const preparedByVisits = (options: PostgresSessionStorageOptions) =>
    onOneClient(async (client) => {
      const storage = createPostgresSessionStorage(client, {
        ...options,
        table: uniqueTable(),
      });
      const { cookie } = await request(storage, null, (s) => s.set("n", 1));
      await request(storage, cookie, (s) => s.set("n", 2));
      assert.equal((await storage.read(cookie)).get("n"), 2);
      return await prepared(client);
    });

  it("postgres store: on one pg Client, a read and a save leave the store's statements prepared on that connection", async () => {
    assert.deepEqual(await preparedByVisits({}), [
      "INSERT",
      "SELECT",
      "UPDATE",
    ]);
  });

  it("postgres store: with prepare false, a read and a save prepare nothing", async () => {
    assert.deepEqual(await preparedByVisits({ prepare: false }), []);
  });

  it("postgres store: two stores on tables with the longest names share one connection, each with its own sessions and indexes", async () => {
    await onOneClient(async (client) => {
      // Names that differ only in their last character.
      const stem = `${uniqueTable()}_`.padEnd(52, "x");
      const [one, two] = ["1", "2"].map((last) =>
        createPostgresSessionStorage(client, { table: stem + last })
      );
      const first = await request(one, null, (s) => s.set("store", 1));
      const second = await request(two, null, (s) => s.set("store", 2));
      await request(one, first.cookie, (s) => s.set("saved", true));
      await request(two, second.cookie, (s) => s.set("saved", true));
      assert.equal((await one.read(first.cookie)).get("store"), 1);
      assert.equal((await two.read(second.cookie)).get("store"), 2);
      assert.notEqual((await one.read(second.cookie)).id, second.cookie);
      assert.equal((await prepared(client)).length, 6);
      // The key, the expiry, the per-user index and the rows without expiry.
      for (const table of [stem + "1", stem + "2"]) {
        assert.equal((await indexes(table)).length, 4);
      }
    });
  });
});
