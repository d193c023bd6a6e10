// Helpers for the store benchmarks: the request a round trip stands for, and
// fs store folders holding 100,000 sessions, kept between runs because they
// take a while to write.

import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { SESSION_DATA } from "./_fixtures.ts";
import type { Case } from "./_cookie_cases.ts";

/** The part of a store every session store has, this module's and remix's. */
export interface StoreLike {
  read(cookie: string | null): Promise<SessionLike>;
  save(session: SessionLike): Promise<string | null>;
}

/** The part of a session the round trip uses. */
export interface SessionLike {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/** Where the benchmarks keep their files: below the checkout's `.tmp/`. */
export const BENCH_DIR = resolve(import.meta.dirname!, "..", ".tmp", "bench");

/** The folder `name` below BENCH_DIR, emptied: what a run writes there. */
export function freshFolder(name: string): string {
  const path = join(BENCH_DIR, name);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  return path;
}

/**
 * Makes a store's first session, holding the realistic session data, and
 * returns its cookie value.
 */
export async function firstSession(store: StoreLike): Promise<string> {
  const session = await store.read(null);
  for (const [key, value] of Object.entries(SESSION_DATA)) {
    session.set(key, value);
  }
  session.set("count", 0);
  const cookie = await store.save(session);
  if (!cookie) throw new Error("bench: the store returned no cookie value");
  return cookie;
}

/**
 * One request of a visit counter: read the session the cookie points to,
 * increment the counter, save. Returns the cookie value for the next request.
 */
export async function roundTrip(
  store: StoreLike,
  cookie: string,
): Promise<string> {
  const session = await store.read(cookie);
  const count = session.get("count");
  if (typeof count !== "number") {
    throw new Error("bench: the store lost the session it saved");
  }
  session.set("count", count + 1);
  return await store.save(session) ?? cookie;
}

/**
 * `requests` overlapping requests on one session: all read it, then each
 * sets a key of its own and saves. Throws when a save lost an update.
 */
export async function overlappingRoundTrips(
  store: StoreLike,
  cookie: string,
  requests: number,
): Promise<void> {
  const sessions = await Promise.all(
    Array.from({ length: requests }, () => store.read(cookie)),
  );
  const round = Math.random();
  await Promise.all(sessions.map((session, n) => {
    session.set(`request${n}`, round);
    return store.save(session);
  }));
  const after = await store.read(cookie);
  for (let n = 0; n < requests; n++) {
    if (after.get(`request${n}`) !== round) {
      throw new Error("bench: an overlapping save lost its update");
    }
  }
}

/** How many sessions the big fs folders hold. */
export const MANY_SESSIONS = 100_000;

/**
 * Returns the cookie values of `MANY_SESSIONS` sessions written through
 * `store` into `folder`, writing them unless an earlier run left them there.
 */
export async function manySessions(
  folder: string,
  store: StoreLike,
): Promise<string[]> {
  const listFile = join(folder, "..", `${folder.split("/").pop()}.json`);
  if (existsSync(listFile) && existsSync(folder)) {
    const cookies = JSON.parse(readFileSync(listFile, "utf8"));
    if (Array.isArray(cookies) && cookies.length === MANY_SESSIONS) {
      return cookies;
    }
  }
  // A folder without its list is left over from an interrupted run.
  rmSync(folder, { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const cookies: string[] = new Array(MANY_SESSIONS);
  const WRITERS = 8;
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < MANY_SESSIONS) {
      const index = next++;
      cookies[index] = await firstSession(store);
    }
  }));
  writeFileSync(listFile, JSON.stringify(cookies));
  return cookies;
}

/** A case that runs a store's round trip, carrying its cookie along. */
export async function storeCase(
  name: string,
  kind: Case["kind"],
  store: StoreLike,
): Promise<Case> {
  let cookie = await firstSession(store);
  cookie = await roundTrip(store, cookie);
  return {
    name,
    kind,
    fn: async () => {
      cookie = await roundTrip(store, cookie);
    },
  };
}
