// The SQLite, PostgreSQL and Redis Cluster stores: a round trip (read,
// increment a counter, save) against the least any store must do on the
// same database through the same client (the floor), and against the
// stores people use there today. The cases of a group run in interleaved
// rounds (bench/_measure.ts), so that load from elsewhere hits them alike.
//
//   deno run -A bench/sql_stores.ts [--rounds N] [--json FILE]
//
// It starts its own PostgreSQL (fsync off, like every test server here) and
// Redis Cluster (3 masters) on loopback, and stops them when it is done.

import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import postgres from "postgres";
import connectPgSimple from "connect-pg-simple";
import { createCluster } from "redis";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createPostgresSessionStorage } from "../postgres_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { startPostgresServer } from "../testing/postgres_server.ts";
import { fromPostgresJs } from "../testing/postgres_clients.ts";
import { startRedisCluster } from "../testing/redis_cluster.ts";
import { type Group, MODULE_NAME } from "./_cookie_cases.ts";
import { measureGroup, type Timing } from "./_measure.ts";
import { sqlTables } from "./report.ts";
import { freshFolder, storeCase } from "./_stores.ts";
import { countedRecord, SESSION_DATA, STORED_RECORD } from "./_fixtures.ts";

async function sqliteGroup(): Promise<Group> {
  const folder = freshFolder("sqlite");
  const database = new DatabaseSync(join(folder, "sessions.db"));
  const ours = await storeCase(
    MODULE_NAME,
    "module",
    createSqliteSessionStorage(database),
  );
  const fs = await storeCase(
    `${MODULE_NAME} fs store`,
    "peer",
    createFsSessionStorage(join(folder, "fs")),
  );
  // The same database and connection, so WAL and synchronous = NORMAL too.
  database.exec("CREATE TABLE floor (id TEXT PRIMARY KEY, data TEXT NOT NULL)");
  const select = database.prepare("SELECT data FROM floor WHERE id = ?");
  const upsert = database.prepare(
    "INSERT INTO floor (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE " +
      "SET data = excluded.data",
  );
  upsert.run("floor", STORED_RECORD);
  return {
    name: "sqlite store: read + save",
    cases: [ours, fs, {
      name: "floor: one SELECT and one upsert",
      kind: "floor",
      fn: () => {
        const row = select.get("floor") as { data: string };
        return upsert.run("floor", countedRecord(row.data));
      },
    }],
  };
}

/**
 * The PostgreSQL group: the store on a `pg` pool as it is (prepared), with
 * `prepare: false` and on postgres.js, each beside its floor, and
 * connect-pg-simple on the same pool. Pushes what must be closed afterwards
 * onto `closers`.
 */
export async function postgresGroup(
  url: string,
  closers: (() => unknown)[],
): Promise<Group> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  closers.push(() => pool.end(), () => sql.end());
  const postgresJs = fromPostgresJs(sql);
  await pool.query(
    "CREATE TABLE floor (id text PRIMARY KEY, data text NOT NULL); " +
      `INSERT INTO floor VALUES ('floor', '${STORED_RECORD}')`,
  );
  // express-session's store on the same pool: a request that changed the
  // session costs it one get and one set. Imported by a name the type
  // checker does not follow: express-session's types change Express's
  // Request for every file that deno check sees.
  const expressSession = "express-session";
  const { default: session } = await import(expressSession);
  const PgStore = connectPgSimple(session);
  const pgSimple = new PgStore({
    pool,
    createTableIfMissing: true,
    pruneSessionInterval: false,
  });
  const call = <T>(run: (done: (error: unknown, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) =>
      run((error, value) => error ? reject(error) : resolve(value as T))
    );
  const sid = "connect-pg-simple-bench";
  await call((done) =>
    pgSimple.set(
      sid,
      { cookie: { maxAge: 86_400_000 }, ...SESSION_DATA, count: 0 } as never,
      done,
    )
  );
  return {
    name: "postgres store: read + save",
    cases: [
      await storeCase(
        `${MODULE_NAME} on pg`,
        "module",
        createPostgresSessionStorage(pool),
      ),
      {
        name: "floor on pg, prepared: one SELECT and one UPDATE",
        kind: "floor",
        fn: async () => {
          const { rows } = await pool.query({
            name: "floor-select",
            text: "SELECT data FROM floor WHERE id = $1",
            values: ["floor"],
          });
          await pool.query({
            name: "floor-update",
            text: "UPDATE floor SET data = $2 WHERE id = $1",
            values: ["floor", countedRecord(rows[0].data)],
          });
        },
      },
      await storeCase(
        `${MODULE_NAME} on pg, prepare: false`,
        "peer",
        createPostgresSessionStorage(pool, {
          table: "unprepared",
          prepare: false,
        }),
      ),
      {
        name: "floor on pg, unnamed: one SELECT and one UPDATE",
        kind: "floor",
        fn: async () => {
          const { rows } = await pool.query(
            "SELECT data FROM floor WHERE id = $1",
            ["floor"],
          );
          await pool.query("UPDATE floor SET data = $2 WHERE id = $1", [
            "floor",
            countedRecord(rows[0].data),
          ]);
        },
      },
      {
        name: "connect-pg-simple on pg: get + set",
        kind: "peer",
        fn: async () => {
          const data = await call<Record<string, unknown>>((done) =>
            pgSimple.get(sid, done as never)
          );
          data.count = Number(data.count) + 1;
          await call((done) => pgSimple.set(sid, data as never, done));
        },
      },
      await storeCase(
        `${MODULE_NAME} on postgres.js`,
        "peer",
        createPostgresSessionStorage(postgresJs),
      ),
      {
        name: "floor on postgres.js: one SELECT and one UPDATE",
        kind: "floor",
        // Prepared, as the store's statements are through the adapter.
        fn: async () => {
          const [row] = await sql.unsafe(
            "SELECT data FROM floor WHERE id = $1",
            ["floor"],
            { prepare: true },
          );
          await sql.unsafe(
            "UPDATE floor SET data = $2 WHERE id = $1",
            ["floor", countedRecord(row.data)],
            { prepare: true },
          );
        },
      },
    ],
  } satisfies Group;
}

async function clusterGroup(
  rootNodes: { url: string }[],
  closers: (() => unknown)[],
): Promise<Group> {
  const client = createCluster({ rootNodes });
  await client.connect();
  closers.push(() => client.destroy());
  const key = "floor:session";
  await client.set(key, STORED_RECORD);
  return {
    name: "redis store on Redis Cluster: read + save",
    cases: [
      await storeCase(MODULE_NAME, "module", createRedisSessionStorage(client)),
      {
        name: "floor: one GET and one SET",
        kind: "floor",
        fn: async () => {
          const value = await client.get(key);
          await client.set(key, countedRecord(value!));
        },
      },
    ],
  };
}

/** What one group measured. */
export interface SqlGroup {
  group: string;
  timings: Timing[];
}

/**
 * Starts PostgreSQL and a Redis Cluster, measures every group in `rounds`
 * interleaved rounds, and stops them.
 */
export async function sqlStores(rounds = 31): Promise<SqlGroup[]> {
  const closers: (() => unknown)[] = [];
  const server = await startPostgresServer();
  const cluster = await startRedisCluster();
  try {
    const results: SqlGroup[] = [];
    for (
      const group of [
        await sqliteGroup(),
        await postgresGroup(server.url, closers),
        await clusterGroup(cluster.rootNodes, closers),
      ]
    ) {
      results.push({
        group: group.name,
        timings: await measureGroup(group, {
          rounds,
          batchMs: 20,
          warmupMs: 300,
        }),
      });
    }
    return results;
  } finally {
    for (const close of closers) await close();
    await server.stop();
    await cluster.stop();
  }
}

if (import.meta.main) {
  const value = (flag: string) => {
    const at = Deno.args.indexOf(flag);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const rounds = Number(value("--rounds") ?? 31);
  const load = () => loadavg().map((n) => n.toFixed(2)).join(" ");
  console.log(
    `${new Date().toISOString()}, Deno ${Deno.version.deno}, load average ` +
      `${load()} before, ${rounds} interleaved rounds`,
  );
  const results = await sqlStores(rounds);
  console.log(`\n${sqlTables(results).join("\n")}load average ${load()} after`);
  const json = value("--json");
  if (json !== undefined) writeFileSync(json, JSON.stringify(results, null, 2));
}
