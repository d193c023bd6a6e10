// deno-lint-ignore-file no-import-prefix
// Store round trips (read, increment a counter, save) against
// @remix-run/session 0.4.1's stores of the same kind. The Redis and Deno KV
// stores have no remix counterpart; they are compared with the least any
// store must do there: one GET and one SET, one get and one set.
//
// Run with `deno task bench`, or alone:
// deno bench -A --unstable-kv bench/storage_bench.ts

import { createMemorySessionStorage as remixMemory } from "npm:@remix-run/session@0.4.1/memory-storage";
import { createFsSessionStorage as remixFs } from "npm:@remix-run/session@0.4.1/fs-storage";
import { createCookieSessionStorage as remixCookie } from "npm:@remix-run/session@0.4.1/cookie-storage";
import { createClient } from "npm:redis@6.3.1";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { startRedisServer } from "../_redis_server.ts";
import { MODULE_NAME } from "./_cookie_cases.ts";
import {
  BENCH_DIR,
  firstSession,
  manySessions,
  roundTrip,
  type StoreLike,
} from "./_stores.ts";
import { SESSION_VALUE } from "./_fixtures.ts";

const REMIX = "@remix-run/session 0.4.1";

/** Benchmarks a round trip on one session, over and over. */
async function benchStore(
  group: string,
  name: string,
  store: StoreLike,
  baseline: boolean,
) {
  let cookie = await firstSession(store);
  cookie = await roundTrip(store, cookie);
  Deno.bench(name, { group, baseline }, async () => {
    cookie = await roundTrip(store, cookie);
  });
}

/** Benchmarks round trips on sessions picked at random from many. */
function benchMany(
  group: string,
  name: string,
  store: StoreLike,
  cookies: string[],
  baseline: boolean,
) {
  Deno.bench(name, { group, baseline }, async () => {
    const index = Math.floor(Math.random() * cookies.length);
    cookies[index] = await roundTrip(store, cookies[index]);
  });
}

{
  const group = "memory store: read + save";
  await benchStore(group, MODULE_NAME, createMemorySessionStorage(), true);
  await benchStore(group, REMIX, remixMemory() as StoreLike, false);
}

{
  const group = "cookie store: read + save";
  await benchStore(group, MODULE_NAME, createCookieSessionStorage(), true);
  await benchStore(group, REMIX, remixCookie() as StoreLike, false);
}

{
  const group = "fs store: read + save";
  const folder = join(BENCH_DIR, "fs-one");
  rmSync(folder, { recursive: true, force: true });
  await benchStore(
    group,
    MODULE_NAME,
    createFsSessionStorage(join(folder, "ours")),
    true,
  );
  await benchStore(
    group,
    REMIX,
    remixFs(join(folder, "remix")) as StoreLike,
    false,
  );
}

{
  const group = "fs store, 100,000 sessions on disk: read + save";
  const ours = createFsSessionStorage(join(BENCH_DIR, "fs-100k-ours"));
  const remix = remixFs(join(BENCH_DIR, "fs-100k-remix")) as StoreLike;
  const ourCookies = await manySessions(join(BENCH_DIR, "fs-100k-ours"), ours);
  const remixCookies = await manySessions(
    join(BENCH_DIR, "fs-100k-remix"),
    remix,
  );
  benchMany(group, MODULE_NAME, ours, ourCookies, true);
  benchMany(group, REMIX, remix, remixCookies, false);
}

{
  const group = "redis store: read + save";
  const server = await startRedisServer();
  // deno bench has no hook after the last benchmark; the server must not
  // outlive the process.
  globalThis.addEventListener("unload", () => void server.stop());
  const client = await createClient({ url: server.url }).connect();
  await benchStore(
    group,
    MODULE_NAME,
    createRedisSessionStorage(client),
    true,
  );
  const key = "floor:session";
  await client.set(key, SESSION_VALUE);
  Deno.bench("floor: one GET and one SET", { group }, async () => {
    const value = await client.get(key);
    await client.set(key, value!);
  });
}

{
  const group = "Deno KV store: read + save";
  const file = join(BENCH_DIR, "kv.sqlite3");
  rmSync(file, { force: true });
  const kv = await Deno.openKv(file);
  await benchStore(group, MODULE_NAME, createKvSessionStorage(kv), true);
  const key = ["floor", "session"];
  const bytes = new TextEncoder().encode(SESSION_VALUE);
  await kv.set(key, bytes);
  Deno.bench("floor: one get and one set", { group }, async () => {
    const { value } = await kv.get<Uint8Array>(key);
    await kv.set(key, value!);
  });
}
