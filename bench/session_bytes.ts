// deno-lint-ignore-file no-import-prefix
// What one session costs where each server-side store keeps it: 2,000
// sessions of the realistic data (~150 bytes of JSON) written through the
// store, and the growth of what holds them, divided by 2,000:
//   memory    V8 heap after a full garbage collection
//   fs        bytes of the files (and disk blocks allocated for them)
//   SQLite    pages of the database file, after a WAL checkpoint
//   Redis     used_memory of the server (INFO memory)
//   Deno KV   pages of its SQLite file, after the writes settled
//   Postgres  pg_total_relation_size of the table, indexes included
//
// Usage: deno run -A --unstable-kv --v8-flags=--expose-gc
//          bench/session_bytes.ts [--json FILE] [--stores memory,fs,...]

import { createClient } from "npm:redis@6.3.1";
import pg from "npm:pg@8.23.1";
import { DatabaseSync } from "node:sqlite";
import { readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { createPostgresSessionStorage } from "../postgres_storage.ts";
import { startRedisServer } from "../testing/redis_server.ts";
import { startPostgresServer } from "../testing/postgres_server.ts";
import {
  BENCH_DIR,
  firstSession,
  freshFolder,
  type StoreLike,
} from "./_stores.ts";

/** Bytes one session takes in a store. */
export interface SessionBytes {
  store: string;
  /** What was measured. */
  what: string;
  bytesPerSession: number;
}

/** Sessions written per store. */
export const SESSIONS = 2_000;

async function fill(store: StoreLike): Promise<void> {
  for (let i = 0; i < SESSIONS; i++) await firstSession(store);
}

function folderBytes(folder: string): { bytes: number; blocks: number } {
  let bytes = 0;
  let blocks = 0;
  for (const entry of readdirSync(folder, { recursive: true })) {
    const stat = statSync(join(folder, String(entry)));
    if (!stat.isFile()) continue;
    bytes += stat.size;
    blocks += stat.blocks * 512;
  }
  return { bytes, blocks };
}

const gc = (globalThis as { gc?: () => void }).gc;

const measures: Record<string, () => Promise<SessionBytes[]>> = {
  async memory() {
    if (gc === undefined) {
      throw new Error(
        "bench/session_bytes.ts: run with --v8-flags=--expose-gc",
      );
    }
    const heap = () => {
      gc!();
      gc!();
      return Deno.memoryUsage().heapUsed;
    };
    const before = heap();
    const store = createMemorySessionStorage();
    await fill(store);
    const bytes = heap() - before;
    if (typeof store.read !== "function") throw new Error("unreachable");
    return [{
      store: "memory",
      what: "V8 heap",
      bytesPerSession: bytes / SESSIONS,
    }];
  },
  async fs() {
    const folder = freshFolder("bytes-fs");
    await fill(createFsSessionStorage(folder));
    const { bytes, blocks } = folderBytes(folder);
    return [
      { store: "fs", what: "file contents", bytesPerSession: bytes / SESSIONS },
      {
        store: "fs",
        what: "disk blocks allocated",
        bytesPerSession: blocks / SESSIONS,
      },
    ];
  },
  async sqlite() {
    const file = join(BENCH_DIR, "bytes.sqlite3");
    for (const suffix of ["", "-wal", "-shm"]) {
      rmSync(file + suffix, { force: true });
    }
    const database = new DatabaseSync(file);
    const store = createSqliteSessionStorage(database);
    const size = () => {
      database.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return statSync(file).size;
    };
    const before = size();
    await fill(store);
    const bytes = size() - before;
    database.close();
    return [{
      store: "SQLite",
      what: "database file, after a checkpoint",
      bytesPerSession: bytes / SESSIONS,
    }];
  },
  async redis() {
    const server = await startRedisServer();
    const client = await createClient({ url: server.url }).connect();
    try {
      const used = async () =>
        Number(/used_memory:(\d+)/.exec(await client.info("memory"))![1]);
      const before = await used();
      await fill(createRedisSessionStorage(client));
      const bytes = await used() - before;
      return [{
        store: "Redis",
        what: "server used_memory",
        bytesPerSession: bytes / SESSIONS,
      }];
    } finally {
      await client.quit();
      await server.stop();
    }
  },
  async kv() {
    const file = join(BENCH_DIR, "bytes-kv.sqlite3");
    for (const suffix of ["", "-wal", "-shm"]) {
      rmSync(file + suffix, { force: true });
    }
    const kv = await Deno.openKv(file);
    await kv.set(["warm"], 1);
    kv.close();
    const size = () =>
      ["", "-wal"].reduce((sum, suffix) => {
        try {
          return sum + statSync(file + suffix).size;
        } catch {
          return sum;
        }
      }, 0);
    const before = size();
    const reopened = await Deno.openKv(file);
    await fill(createKvSessionStorage(reopened));
    reopened.close();
    // Closing checkpoints the write-ahead log into the file.
    const bytes = size() - before;
    return [{
      store: "Deno KV",
      what: "SQLite file and its log",
      bytesPerSession: bytes / SESSIONS,
    }];
  },
  async postgres() {
    const server = await startPostgresServer();
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    try {
      const store = createPostgresSessionStorage(pool, { table: "sessions" });
      await firstSession(store);
      await pool.query("VACUUM FULL sessions");
      const size = async () => {
        const { rows } = await pool.query(
          "SELECT pg_total_relation_size('sessions') AS bytes",
        );
        return Number(rows[0].bytes);
      };
      const before = await size();
      await fill(store);
      await pool.query("VACUUM FULL sessions");
      const bytes = await size() - before;
      return [{
        store: "Postgres",
        what: "table, indexes and TOAST (pg_total_relation_size)",
        bytesPerSession: bytes / SESSIONS,
      }];
    } finally {
      await pool.end();
      await server.stop();
    }
  },
};

/** Measures the stores in `names`. */
export async function sessionBytes(
  names: string[] = Object.keys(measures),
): Promise<SessionBytes[]> {
  const results: SessionBytes[] = [];
  for (const name of names) results.push(...await measures[name]());
  return results;
}

if (import.meta.main) {
  const value = (flag: string) => {
    const at = Deno.args.indexOf(flag);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const results = await sessionBytes(value("--stores")?.split(","));
  for (const { store, what, bytesPerSession } of results) {
    console.log(
      `${store.padEnd(9)} ${
        Math.round(bytesPerSession).toString().padStart(6)
      } bytes per session (${what})`,
    );
  }
  const json = value("--json");
  if (json !== undefined) writeFileSync(json, JSON.stringify(results, null, 2));
}
