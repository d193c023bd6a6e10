// The SQLite, PostgreSQL and Redis Cluster stores: a round trip (read,
// increment a counter, save) against the least any store must do on the
// same database through the same client (the floor), and against the
// stores people use there today.
//
//   deno bench -A bench/sql_storage_bench.ts
//
// It starts its own PostgreSQL (fsync off, as every test server here) and
// Redis Cluster on loopback, and stops them when it exits.

import { rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import postgres from "postgres";
import connectPgSimple from "connect-pg-simple";
import { createCluster } from "redis";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import {
  createPostgresSessionStorage,
  type PostgresSessionClient,
} from "../postgres_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { startPostgresServer } from "../testing/postgres_server.ts";
import { startRedisCluster } from "../testing/redis_cluster.ts";
import { MODULE_NAME } from "./_cookie_cases.ts";
import {
  BENCH_DIR,
  firstSession,
  roundTrip,
  type StoreLike,
} from "./_stores.ts";
import { SESSION_DATA } from "./_fixtures.ts";

/** Benchmarks a round trip on one session, over and over. */
async function benchStore(
  group: string,
  name: string,
  store: StoreLike,
  baseline = false,
) {
  let cookie = await firstSession(store);
  cookie = await roundTrip(store, cookie);
  Deno.bench(name, { group, baseline }, async () => {
    cookie = await roundTrip(store, cookie);
  });
}

// What a stored session holds, as the stores write it.
const RECORD = JSON.stringify({
  d: [{ ...SESSION_DATA, count: 0 }, {}],
  e: null,
});

{
  const group = "sqlite store: read + save";
  rmSync(join(BENCH_DIR, "sqlite"), { recursive: true, force: true });
  Deno.mkdirSync(join(BENCH_DIR, "sqlite"), { recursive: true });
  const database = new DatabaseSync(join(BENCH_DIR, "sqlite", "sessions.db"));
  await benchStore(
    group,
    MODULE_NAME,
    createSqliteSessionStorage(database),
    true,
  );
  await benchStore(
    group,
    `${MODULE_NAME} fs store`,
    createFsSessionStorage(join(BENCH_DIR, "sqlite", "fs")),
  );
  // The same database and connection, so WAL and synchronous = NORMAL too.
  database.exec(
    "CREATE TABLE floor (id TEXT PRIMARY KEY, data TEXT NOT NULL)",
  );
  const select = database.prepare("SELECT data FROM floor WHERE id = ?");
  const upsert = database.prepare(
    "INSERT INTO floor (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE " +
      "SET data = excluded.data",
  );
  upsert.run("floor", RECORD);
  Deno.bench("floor: one SELECT and one upsert", { group }, () => {
    const row = select.get("floor") as { data: string };
    upsert.run("floor", row.data);
  });
}

{
  const server = await startPostgresServer();
  globalThis.addEventListener("unload", () => void server.stop());
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  const sql = postgres(server.url, { max: 1, onnotice: () => {} });
  const postgresJs: PostgresSessionClient = {
    query: async (text, values) => ({
      rows: await sql.unsafe(text, values as postgres.ParameterOrJSON<never>[]),
    }),
  };
  const group = "postgres store: read + save";
  await benchStore(
    group,
    `${MODULE_NAME} on pg`,
    createPostgresSessionStorage(pool),
    true,
  );
  await pool.query(
    "CREATE TABLE floor (id text PRIMARY KEY, data text NOT NULL); " +
      `INSERT INTO floor VALUES ('floor', '${RECORD}')`,
  );
  Deno.bench("floor on pg: one SELECT and one UPDATE", { group }, async () => {
    const { rows } = await pool.query("SELECT data FROM floor WHERE id = $1", [
      "floor",
    ]);
    await pool.query("UPDATE floor SET data = $2 WHERE id = $1", [
      "floor",
      rows[0].data,
    ]);
  });
  // express-session's store on the same pool: what a request costs it is
  // one get and, the session changed, one set.
  // Imported by a name the type checker does not follow: express-session's
  // types change Express's Request for every file that deno check sees.
  const expressSession = "express-session";
  const { default: session } = await import(expressSession);
  const PgStore = connectPgSimple(session);
  const pgSimple = new PgStore({
    pool,
    createTableIfMissing: true,
    pruneSessionInterval: false,
  });
  const sid = "connect-pg-simple-bench";
  const call = <T>(run: (done: (error: unknown, value?: T) => void) => void) =>
    new Promise<T>((resolve, reject) =>
      run((error, value) => error ? reject(error) : resolve(value as T))
    );
  await call((done) =>
    pgSimple.set(
      sid,
      { cookie: { maxAge: 86_400_000 }, ...SESSION_DATA, count: 0 } as never,
      done,
    )
  );
  Deno.bench("connect-pg-simple: get + set", { group }, async () => {
    const data = await call<Record<string, unknown>>((done) =>
      pgSimple.get(sid, done as never)
    );
    data.count = Number(data.count) + 1;
    await call((done) => pgSimple.set(sid, data as never, done));
  });
  await benchStore(
    group,
    `${MODULE_NAME} on postgres.js`,
    createPostgresSessionStorage(postgresJs),
  );
  Deno.bench(
    "floor on postgres.js: one SELECT and one UPDATE",
    { group },
    async () => {
      const [row] = await sql.unsafe("SELECT data FROM floor WHERE id = $1", [
        "floor",
      ]);
      await sql.unsafe("UPDATE floor SET data = $2 WHERE id = $1", [
        "floor",
        row.data,
      ]);
    },
  );
}

{
  const cluster = await startRedisCluster();
  globalThis.addEventListener("unload", () => void cluster.stop());
  const client = createCluster({ rootNodes: cluster.rootNodes });
  await client.connect();
  const group = "redis store on Redis Cluster: read + save";
  await benchStore(group, MODULE_NAME, createRedisSessionStorage(client), true);
  const key = "floor:session";
  await client.set(key, RECORD);
  Deno.bench("floor: one GET and one SET", { group }, async () => {
    const value = await client.get(key);
    await client.set(key, value!);
  });
}
