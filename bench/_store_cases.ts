// deno-lint-ignore-file no-import-prefix
// The store comparisons bench/ci.ts guards under Deno, those met in the run
// BENCHMARKS.md reports: a request's whole session work (verify the cookie,
// read, save, sign) with the memory and the cookie store, against
// @remix-run/session 0.4.1 with @remix-run/cookie 0.5.3; and the SQLite
// store's read + save against the fs store's (issue 13's target is 20x); and
// the PostgreSQL store on a `pg` pool against connect-pg-simple on it.
// The memory and cookie stores alone are not guarded: against remix they
// are slower (BENCHMARKS.md says why).

import { createMemorySessionStorage as remixMemory } from "npm:@remix-run/session@0.4.1/memory-storage";
import { createCookieSessionStorage as remixCookie } from "npm:@remix-run/session@0.4.1/cookie-storage";
import { createCookie as remixCreateCookie } from "npm:@remix-run/cookie@0.5.3";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { startPostgresServer } from "../testing/postgres_server.ts";
import { postgresGroup } from "./sql_stores.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createCookie } from "../cookie.ts";
import { type Case, type Group, MODULE_NAME } from "./_cookie_cases.ts";
import {
  firstSession,
  freshFolder,
  roundTrip,
  storeCase,
  type StoreLike,
} from "./_stores.ts";
import {
  COOKIE_NAME,
  cookieHeader,
  MAX_AGE,
  pairOf,
  SECRET,
} from "./_fixtures.ts";

const REMIX = "@remix-run/session 0.4.1";

interface RequestCookie {
  parse(header: string | null): Promise<string | null>;
  serialize(value: string): Promise<string>;
}

async function requestCase(
  name: string,
  kind: Case["kind"],
  cookie: RequestCookie,
  store: StoreLike,
): Promise<Case> {
  let header = cookieHeader(
    pairOf(await cookie.serialize(await firstSession(store))),
  );
  return {
    name,
    kind,
    fn: async () => {
      const value = await cookie.parse(header);
      if (value === null) throw new Error("bench: the cookie did not verify");
      const next = await roundTrip(store, value);
      header = cookieHeader(pairOf(await cookie.serialize(next)));
    },
  };
}

/**
 * The store groups, ready to measure. Pushes what must be stopped once they
 * are measured (the PostgreSQL server) onto `closers`.
 */
export async function storeGroups(
  closers: (() => unknown)[],
): Promise<Group[]> {
  const options = { secrets: [SECRET], secure: true, maxAge: MAX_AGE };
  const groups: Group[] = [];
  for (
    const [kind, ours, remix] of [
      ["memory", createMemorySessionStorage(), remixMemory()],
      ["cookie", createCookieSessionStorage(), remixCookie()],
    ] as const
  ) {
    groups.push({
      name: `signed cookie + ${kind} store: a request's session work`,
      cases: [
        await requestCase(
          MODULE_NAME,
          "module",
          createCookie(COOKIE_NAME, options),
          ours,
        ),
        await requestCase(
          `${REMIX} + @remix-run/cookie 0.5.3`,
          "peer",
          remixCreateCookie(COOKIE_NAME, options) as RequestCookie,
          remix as StoreLike,
        ),
      ],
    });
  }
  groups.push({
    name: "sqlite store: read + save, against the fs store",
    cases: [
      await storeCase(
        MODULE_NAME,
        "module",
        createSqliteSessionStorage(
          new DatabaseSync(join(freshFolder("ci-sqlite"), "sessions.db")),
        ),
      ),
      await storeCase(
        `${MODULE_NAME} fs store`,
        "peer",
        createFsSessionStorage(freshFolder("ci-fs")),
      ),
    ],
  });
  groups.push(await postgresAgainstConnectPgSimple(closers));
  return groups;
}

// The PostgreSQL target: the store on a `pg` pool as it is, which prepares
// its statements, against connect-pg-simple on the same pool.
async function postgresAgainstConnectPgSimple(
  closers: (() => unknown)[],
): Promise<Group> {
  const server = await startPostgresServer();
  closers.push(() => server.stop());
  const { cases } = await postgresGroup(server.url, closers);
  const pick = (name: string) => cases.find((item) => item.name === name)!;
  return {
    name: "postgres store on pg: read + save, against connect-pg-simple",
    cases: [
      pick(`${MODULE_NAME} on pg`),
      pick("connect-pg-simple on pg: get + set"),
    ],
  };
}
