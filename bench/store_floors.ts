// deno-lint-ignore-file no-import-prefix
// Each store's request (read the session, increment a counter, save) against
// its floor, the least any store must do there, and against
// @remix-run/session's store of the same kind where there is one, all in one
// run: the cases of a group run in interleaved batches (bench/_measure.ts),
// so the same load from other processes falls on each.
//
// The floors, on the same session data (~150 bytes of JSON):
//   memory  a Map get and set, copying the session through JSON both ways
//   fs      read the file, write a temporary file, rename it into place
//   Redis   one GET and one SET through the same client
//   KV      one get and one set on the same database
//   SQLite  one SELECT and one UPDATE on the same connection
// Every floor writes back the record with its counter incremented, as the
// stores' request does, never the bytes it read: SQLite, for one, commits an
// unchanged row in half the time, which no store writing a changed session
// gets.
// Redis and KV have a second floor, the least a compare-and-set store must
// do: GET, then EVAL of a script that SETs only if the value is unchanged;
// get, then an atomic commit checked against the versionstamp read.
//
// Usage: deno run -A --unstable-kv bench/store_floors.ts [--rounds N]
//          [--json FILE] [--groups memory,cookie,fs,redis,kv,sqlite]

import { createMemorySessionStorage as remixMemory } from "npm:@remix-run/session@0.4.1/memory-storage";
import { createFsSessionStorage as remixFs } from "npm:@remix-run/session@0.4.1/fs-storage";
import { createCookieSessionStorage as remixCookie } from "npm:@remix-run/session@0.4.1/cookie-storage";
import { createClient } from "npm:redis@6.3.1";
import { DatabaseSync } from "node:sqlite";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { startRedisServer } from "../testing/redis_server.ts";
import type { Group } from "./_cookie_cases.ts";
import { MODULE_NAME } from "./_cookie_cases.ts";
import { formatNs, measureGroup, type Timing } from "./_measure.ts";
import { BENCH_DIR, storeCase, type StoreLike } from "./_stores.ts";
import { SESSION_DATA } from "./_fixtures.ts";

const REMIX = "@remix-run/session 0.4.1";

// The least script a compare-and-set on Redis needs.
const SET_IF_UNCHANGED = `
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[1], ARGV[2])
return 1
`;

/** What one group measured, with the method of its floor. */
export interface FloorGroup {
  group: string;
  store: string;
  floor?: string;
  timings: Timing[];
}

/** The floors' methods, as the tables state them. */
export const FLOOR_METHODS: Record<string, string> = {
  memory: "a Map get and set, copying the session through JSON both ways",
  fs: "read the file, write a temporary file, rename it into place",
  redis: "one GET and one SET through the same client; with " +
    "compare-and-set: GET, then EVAL of a script that SETs if unchanged",
  kv: "one get and one set; with compare-and-set: get, then an atomic " +
    "commit checked against the versionstamp",
  sqlite: "one SELECT and one UPDATE on the same connection",
};

/** The session's record as the floors keep it: its data with a counter. */
function record(): string {
  return JSON.stringify({ ...SESSION_DATA, count: 0 });
}

/** Increments the counter of a record, as the stores' round trip does. */
function incremented(text: string): string {
  const data = JSON.parse(text);
  data.count++;
  return JSON.stringify(data);
}

type Setup = () => Promise<
  {
    groups: Group[];
    close?: () => Promise<void> | void;
    otherCpuMs?: () => number;
  }
>;

/**
 * CPU milliseconds a process has run so far, from /proc/<pid>/schedstat
 * (nanoseconds, unlike the 10 ms ticks of /proc/<pid>/stat). Its main
 * thread only: enough for redis-server, which runs commands on it.
 */
function schedstatMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/schedstat`, "utf8");
  return Number(text.split(" ")[0]) / 1e6;
}

const setups: Record<string, Setup> = {
  async memory() {
    const map = new Map<string, string>([["a-session-id", record()]]);
    return {
      groups: [{
        name: "memory",
        cases: [
          await storeCase(MODULE_NAME, "module", createMemorySessionStorage()),
          await storeCase(REMIX, "peer", remixMemory() as StoreLike),
          {
            name: "floor",
            kind: "floor",
            fn: () => {
              map.set("a-session-id", incremented(map.get("a-session-id")!));
              return Promise.resolve();
            },
          },
        ],
      }],
    };
  },
  async cookie() {
    return {
      groups: [{
        name: "cookie",
        cases: [
          await storeCase(MODULE_NAME, "module", createCookieSessionStorage()),
          await storeCase(REMIX, "peer", remixCookie() as StoreLike),
        ],
      }],
    };
  },
  async fs() {
    const folder = join(BENCH_DIR, "floors-fs");
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(join(folder, "floor"), { recursive: true });
    const file = join(folder, "floor", "session");
    writeFileSync(file, record());
    let n = 0;
    return {
      groups: [{
        name: "fs",
        cases: [
          await storeCase(
            MODULE_NAME,
            "module",
            createFsSessionStorage(join(folder, "ours")),
          ),
          await storeCase(
            REMIX,
            "peer",
            remixFs(join(folder, "remix")) as StoreLike,
          ),
          {
            name: "floor",
            kind: "floor",
            fn: async () => {
              const text = await readFile(file, "utf8");
              const temporary = `${file}.${n++}.tmp`;
              await writeFile(temporary, incremented(text));
              await rename(temporary, file);
            },
          },
        ],
      }],
    };
  },
  async redis() {
    const server = await startRedisServer();
    const client = await createClient({ url: server.url }).connect();
    const key = "floor:session";
    await client.set(key, record());
    const pid = Number(
      /process_id:(\d+)/.exec(await client.info("server"))![1],
    );
    return {
      otherCpuMs: () => schedstatMs(pid),
      groups: [{
        name: "redis",
        cases: [
          await storeCase(
            MODULE_NAME,
            "module",
            createRedisSessionStorage(client),
          ),
          {
            name: "floor",
            kind: "floor",
            fn: async () => {
              const text = await client.get(key);
              await client.set(key, incremented(text!));
            },
          },
          {
            name: "floor with compare-and-set",
            kind: "floor",
            fn: async () => {
              const text = await client.get(key);
              await client.eval(SET_IF_UNCHANGED, {
                keys: [key],
                arguments: [text!, incremented(text!)],
              });
            },
          },
        ],
      }],
      close: async () => {
        await client.quit();
        await server.stop();
      },
    };
  },
  async kv() {
    const file = join(BENCH_DIR, "floors-kv.sqlite3");
    rmSync(file, { force: true });
    const kv = await Deno.openKv(file);
    const key = ["floor", "session"];
    const encoder = new TextEncoder();
    const decoder = new TextDecoder();
    await kv.set(key, encoder.encode(record()));
    return {
      groups: [{
        name: "kv",
        cases: [
          await storeCase(MODULE_NAME, "module", createKvSessionStorage(kv)),
          {
            name: "floor with compare-and-set",
            kind: "floor",
            fn: async () => {
              const entry = await kv.get<Uint8Array>(key);
              await kv.atomic().check(entry).set(
                key,
                encoder.encode(incremented(decoder.decode(entry.value!))),
              ).commit();
            },
          },
          {
            name: "floor",
            kind: "floor",
            fn: async () => {
              const { value } = await kv.get<Uint8Array>(key);
              await kv.set(
                key,
                encoder.encode(incremented(decoder.decode(value!))),
              );
            },
          },
        ],
      }],
      close: () => kv.close(),
    };
  },
  async sqlite() {
    const file = join(BENCH_DIR, "floors.sqlite3");
    for (const suffix of ["", "-wal", "-shm"]) {
      rmSync(file + suffix, { force: true });
    }
    const database = new DatabaseSync(file);
    // The store switches the database to WAL and synchronous = NORMAL, for
    // the floor too, which shares the connection.
    const storage = createSqliteSessionStorage(database);
    database.exec(
      "CREATE TABLE floor (id TEXT PRIMARY KEY NOT NULL, data TEXT NOT NULL, " +
        "version INTEGER NOT NULL)",
    );
    database.prepare("INSERT INTO floor VALUES (?, ?, 1)").run("s", record());
    const select = database.prepare(
      "SELECT data, version FROM floor WHERE id = ?",
    );
    const update = database.prepare(
      "UPDATE floor SET data = ?, version = version + 1 WHERE id = ?",
    );
    return {
      groups: [{
        name: "sqlite",
        cases: [
          await storeCase(MODULE_NAME, "module", storage),
          {
            name: "floor",
            kind: "floor",
            fn: () => {
              const row = select.get("s") as { data: string };
              update.run(incremented(row.data), "s");
              return Promise.resolve();
            },
          },
        ],
      }],
      close: () => database.close(),
    };
  },
};

/** Store names for the tables. */
export const STORE_NAMES: Record<string, string> = {
  memory: "memory store",
  cookie: "cookie store",
  fs: "fs store",
  redis: "Redis store",
  kv: "Deno KV store",
  sqlite: "SQLite store (node:sqlite)",
};

/** Measures every group in `names`, `rounds` interleaved rounds each. */
export async function storeFloors(
  names: string[] = Object.keys(setups),
  rounds = 15,
): Promise<FloorGroup[]> {
  const results: FloorGroup[] = [];
  for (const name of names) {
    const { groups, close, otherCpuMs } = await setups[name]();
    const noIo = name === "memory" || name === "cookie";
    try {
      for (const group of groups) {
        const timings = await measureGroup(group, {
          rounds,
          batchMs: 20,
          warmupMs: 200,
          // The memory and cookie stores never wait on I/O: their CPU time
          // is what other processes on the machine disturb least. The others
          // get it beside their time, their database's included.
          clock: noIo ? "cpu" : "wall",
          cpuToo: !noIo,
          otherCpuMs,
        });
        results.push({
          group: name,
          store: STORE_NAMES[name],
          floor: FLOOR_METHODS[name],
          timings,
        });
      }
    } finally {
      await close?.();
    }
  }
  return results;
}

if (import.meta.main) {
  const value = (flag: string) => {
    const at = Deno.args.indexOf(flag);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const results = await storeFloors(
    value("--groups")?.split(","),
    Number(value("--rounds") ?? 15),
  );
  for (const { store, timings } of results) {
    const ours = timings.find((timing) => timing.kind === "module")!;
    console.log(store);
    for (const timing of timings) {
      console.log(
        `  ${timing.name.padEnd(28)} min ${
          formatNs(timing.minNs).padStart(10)
        }` +
          `  median ${formatNs(timing.medianNs).padStart(10)}  ours/this ` +
          `${(ours.minNs / timing.minNs).toFixed(2)}x (median ${
            (ours.medianNs / timing.medianNs).toFixed(2)
          }x)` +
          (timing.cpuMinNs === undefined
            ? ""
            : `  CPU ${formatNs(timing.cpuMinNs)} median ${
              formatNs(timing.cpuMedianNs!)
            } ours/this ${
              (ours.cpuMedianNs! / timing.cpuMedianNs!).toFixed(2)
            }x`),
      );
    }
  }
  const json = value("--json");
  if (json !== undefined) writeFileSync(json, JSON.stringify(results, null, 2));
}
