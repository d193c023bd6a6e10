// A request's session work taken apart, for the cookie, memory, fs and
// SQLite stores, on Deno: each step timed on its own, in interleaved batches
// (bench/_measure.ts), next to the whole of it through withSession.
//   verify    the signed cookie's parse: find it in the Cookie header and
//             check its HMAC
//   read      the store's read of the verified value
//   save      the store's save after the counter changed (timed as read +
//             change + save, less read)
//   sign      the cookie's serialize of the value save returned
//   response  the copy of the handler's response that adds Set-Cookie
//   whole     withSession around a handler that counts, on a Request built
//             beforehand
// What whole takes beyond the steps is the Session, promises and garbage
// collection. The cookie and memory stores and SQLite (synchronous) are
// timed by CPU time, the fs store by the clock.
//
// Usage: deno run -A bench/breakdown.ts [--rounds N] [--json FILE]

import { DatabaseSync } from "node:sqlite";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { withSession } from "../middleware.ts";
import type { SessionStorage } from "../session.ts";
import type { Case } from "./_cookie_cases.ts";
import { formatNs, measureGroup, type Timing } from "./_measure.ts";
import { BENCH_DIR, firstSession } from "./_stores.ts";
import {
  COOKIE_NAME,
  cookieHeader,
  MAX_AGE,
  pairOf,
  SECRET,
} from "./_fixtures.ts";

/** The steps of one store's request. */
export interface Breakdown {
  store: string;
  /** Nanoseconds per step, from the median batches. */
  steps: Record<string, number>;
  timings: Timing[];
}

function stores(): Record<string, () => SessionStorage> {
  return {
    cookie: () => createCookieSessionStorage(),
    memory: () => createMemorySessionStorage(),
    fs: () => {
      const folder = join(BENCH_DIR, "breakdown-fs");
      rmSync(folder, { recursive: true, force: true });
      return createFsSessionStorage(folder);
    },
    SQLite: () => {
      const file = join(BENCH_DIR, "breakdown.sqlite3");
      for (const suffix of ["", "-wal", "-shm"]) {
        rmSync(file + suffix, { force: true });
      }
      return createSqliteSessionStorage(new DatabaseSync(file));
    },
  };
}

async function cases(storage: SessionStorage): Promise<Case[]> {
  const cookie = createCookie(COOKIE_NAME, {
    secrets: [SECRET],
    secure: true,
    maxAge: MAX_AGE,
  });
  let value = await firstSession(storage);
  const header = cookieHeader(pairOf(await cookie.serialize(value)));
  const setCookie = await cookie.serialize(value);
  const handler = withSession({ cookie, storage }, (_request, session) => {
    session.set("count", Number(session.get("count") ?? 0) + 1);
    return new Response("Hello, world!");
  });
  const body = "Hello, world!";
  // One request, sent again and again: its cookie stays valid, and the
  // stores save the counter it read plus one each time.
  const request = new Request("http://localhost/", {
    headers: { Cookie: header },
  });
  const step = (name: string, fn: () => Promise<unknown>): Case => ({
    name,
    kind: name === "whole" ? "module" : "peer",
    fn,
  });
  return [
    step("verify", () => cookie.parse(header)),
    step("read", () => storage.read(value)),
    step("read + save", async () => {
      const session = await storage.read(value);
      session.set("count", Number(session.get("count")) + 1);
      value = await storage.save(session) ?? value;
    }),
    step("sign", () => cookie.serialize(value)),
    step("response", () => {
      const response = new Response(body);
      const copy = new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
      copy.headers.append("Set-Cookie", setCookie);
      return Promise.resolve(copy);
    }),
    step("whole", async () => {
      const response = await handler(request);
      if (!response.headers.has("Set-Cookie")) {
        throw new Error("bench: the request saved no session");
      }
    }),
  ];
}

/** Measures the steps of every store. */
export async function breakdown(rounds = 15): Promise<Breakdown[]> {
  const results: Breakdown[] = [];
  // The steps share code across the stores: without a first pass over the
  // cookie store, the first store measured pays for the JIT's warming up.
  await measureGroup(
    { name: "warm-up", cases: await cases(stores().cookie()) },
    {
      rounds: 3,
      batchMs: 20,
      warmupMs: 200,
    },
  );
  for (const [store, create] of Object.entries(stores())) {
    const timings = await measureGroup(
      { name: store, cases: await cases(create()) },
      {
        rounds,
        batchMs: 20,
        warmupMs: 200,
        clock: store === "fs" ? "wall" : "cpu",
      },
    );
    const median = (name: string) =>
      timings.find((timing) => timing.name === name)!.medianNs;
    results.push({
      store,
      steps: {
        verify: median("verify"),
        read: median("read"),
        save: median("read + save") - median("read"),
        sign: median("sign"),
        response: median("response"),
        whole: median("whole"),
      },
      timings,
    });
  }
  return results;
}

if (import.meta.main) {
  const value = (flag: string) => {
    const at = Deno.args.indexOf(flag);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const results = await breakdown(Number(value("--rounds") ?? 15));
  for (const { store, steps } of results) {
    console.log(
      `${store.padEnd(7)} ` +
        Object.entries(steps).map(([name, ns]) => `${name} ${formatNs(ns)}`)
          .join("  "),
    );
  }
  const json = value("--json");
  if (json !== undefined) writeFileSync(json, JSON.stringify(results, null, 2));
}
