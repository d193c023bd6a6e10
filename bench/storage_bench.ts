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
import { createCookie as remixCreateCookie } from "npm:@remix-run/cookie@0.5.3";
import { createClient } from "npm:redis@6.3.1";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createRedisSessionStorage } from "../redis_storage.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { createCookie } from "../cookie.ts";
import { startRedisServer } from "../testing/redis_server.ts";
import { MODULE_NAME } from "./_cookie_cases.ts";
import {
  BENCH_DIR,
  firstSession,
  manySessions,
  overlappingRoundTrips,
  roundTrip,
  type StoreLike,
} from "./_stores.ts";
import {
  COOKIE_NAME,
  cookieHeader,
  MAX_AGE,
  pairOf,
  SECRET,
  SESSION_VALUE,
} from "./_fixtures.ts";

const REMIX = "@remix-run/session 0.4.1";
const OVERLAPPING = 10;

// The stores the contended group runs, registered last so that it prints
// as one table.
const contended: [string, StoreLike][] = [];

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
  const ours = createMemorySessionStorage();
  await benchStore(group, MODULE_NAME, ours, true);
  await benchStore(group, REMIX, remixMemory() as StoreLike, false);
  contended.push(["memory store", ours]);
}

{
  const group = "cookie store: read + save";
  await benchStore(group, MODULE_NAME, createCookieSessionStorage(), true);
  await benchStore(group, REMIX, remixCookie() as StoreLike, false);
}

/** The part of a cookie object a request uses, here and in remix. */
interface RequestCookie {
  parse(header: string | null): Promise<string | null>;
  serialize(value: string): Promise<string>;
}

/**
 * Benchmarks the session work of a whole request: parse and verify the
 * cookie, read the session, increment, save, sign the new cookie.
 */
async function benchRequest(
  group: string,
  name: string,
  cookie: RequestCookie,
  store: StoreLike,
  baseline: boolean,
) {
  let header = cookieHeader(
    pairOf(await cookie.serialize(await firstSession(store))),
  );
  Deno.bench(name, { group, baseline }, async () => {
    const value = await cookie.parse(header);
    if (value === null) throw new Error("bench: the cookie did not verify");
    const next = await roundTrip(store, value);
    header = cookieHeader(pairOf(await cookie.serialize(next)));
  });
}

{
  // A store's own round trip leaves out what its cookie costs: this module's
  // cookie store writes base64url, which its cookie passes through, while
  // remix's writes JSON that its cookie then encodes. Both whole.
  const options = {
    secrets: [SECRET],
    secure: true,
    maxAge: MAX_AGE,
  };
  for (
    const [kind, ours, remix] of [
      ["memory", createMemorySessionStorage(), remixMemory()],
      ["cookie", createCookieSessionStorage(), remixCookie()],
    ] as const
  ) {
    const group = `signed cookie + ${kind} store: a request's session work`;
    await benchRequest(
      group,
      MODULE_NAME,
      createCookie(COOKIE_NAME, options),
      ours,
      true,
    );
    await benchRequest(
      group,
      REMIX + " + @remix-run/cookie 0.5.3",
      remixCreateCookie(COOKIE_NAME, options) as RequestCookie,
      remix as StoreLike,
      false,
    );
  }
}

{
  const group = "fs store: read + save";
  const folder = join(BENCH_DIR, "fs-one");
  rmSync(folder, { recursive: true, force: true });
  const ours = createFsSessionStorage(join(folder, "ours"));
  await benchStore(group, MODULE_NAME, ours, true);
  contended.push(["fs store", ours]);
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
  const ours = createRedisSessionStorage(client);
  await benchStore(group, MODULE_NAME, ours, true);
  contended.push(["redis store", ours]);
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
  const ours = createKvSessionStorage(kv);
  await benchStore(group, MODULE_NAME, ours, true);
  contended.push(["Deno KV store", ours]);
  const key = ["floor", "session"];
  const bytes = new TextEncoder().encode(SESSION_VALUE);
  await kv.set(key, bytes);
  Deno.bench("floor: one get and one set", { group }, async () => {
    const { value } = await kv.get<Uint8Array>(key);
    await kv.set(key, value!);
  });
}

{
  const group =
    `${OVERLAPPING} overlapping requests on one session: each reads, sets its own key, saves`;
  for (const [name, store] of contended) {
    const cookie = await firstSession(store);
    const baseline = name === "memory store";
    Deno.bench(name, { group, baseline }, async () => {
      await overlappingRoundTrips(store, cookie, OVERLAPPING);
    });
  }
}
