/**
 * A session store that keeps sessions in PostgreSQL: for apps that run on
 * more than one server and already have a database. Every server that talks
 * to the same database sees the same sessions, so no sticky sessions are
 * needed.
 *
 * The store takes a client: a `Pool` or `Client` of the `pg` package fits
 * as it is, `postgres` (postgres.js) through a one-line adapter, see
 * {@linkcode PostgresSessionClient}.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createPostgresSessionStorage } from "@x/session/postgres-storage";
 *
 * export function openSessionStorage(url: string) {
 *   const pool = new pg.Pool({ connectionString: url });
 *   return createPostgresSessionStorage(pool, { ttl: 86400 });
 * }
 * ```
 *
 * @module
 */

import type {
  ServerSessionStorageOptions,
  SessionIndex,
  SessionStorage,
} from "./session.ts";
import { createServerSessionStorage, setUpStore } from "./_server_storage.ts";
import { checkTableName, firstVersion } from "./_sql.ts";

/**
 * The part of a PostgreSQL client the store uses: one method that runs a
 * statement with `$1`-style parameters and resolves to its rows. A `Pool` or
 * `Client` of the `pg` package is one as it is. The store runs every
 * statement on its own, never inside a transaction of yours, so a pool is
 * the natural choice.
 *
 * A statement with values that is prepared once per connection and reused
 * saves PostgreSQL parsing and planning it on every call, about a third of a
 * read and save on loopback. The adapters below prepare them: postgres.js
 * when asked, `pg` for a statement that has a name (a digest of its text:
 * PostgreSQL cuts names at 63 bytes). The table's creation, sent without
 * values, holds several statements, which cannot be prepared. Behind a
 * connection pooler that does not support prepared statements, pass a `pg`
 * pool as it is, or leave `prepare` out.
 *
 * @example `pg` with prepared statements
 * ```ts
 * import { createHash } from "node:crypto";
 * import pg from "pg";
 * import type { PostgresSessionClient } from "@x/session/postgres-storage";
 *
 * export function withNamedStatements(pool: pg.Pool): PostgresSessionClient {
 *   return {
 *     query: (text, values) =>
 *       pool.query(
 *         values === undefined ? text : {
 *           name: createHash("sha1").update(text).digest("base64url"),
 *           text,
 *           values,
 *         },
 *       ),
 *   };
 * }
 * ```
 *
 * @example Adapting postgres.js
 * ```ts
 * import postgres from "postgres";
 * import type { PostgresSessionClient } from "@x/session/postgres-storage";
 *
 * export function fromPostgresJs(sql: postgres.Sql): PostgresSessionClient {
 *   return {
 *     query: async (text, values) => ({
 *       rows: await sql.unsafe(
 *         text,
 *         values as postgres.ParameterOrJSON<never>[],
 *         { prepare: values !== undefined },
 *       ),
 *     }),
 *   };
 * }
 * ```
 */
export interface PostgresSessionClient {
  /**
   * Runs `text` with `values` bound to `$1`, `$2`, ... and resolves to the
   * rows, each an object keyed by column name. Called without `values`,
   * `text` may hold several statements (the table's creation).
   */
  query(
    text: string,
    values?: (string | number | null)[],
  ): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Options for {@linkcode createPostgresSessionStorage}.
 *
 * @example
 * ```ts
 * import type { PostgresSessionStorageOptions } from "@x/session/postgres-storage";
 *
 * const options: PostgresSessionStorageOptions = {
 *   table: "app_sessions",
 *   createTable: false,
 *   ttl: 86400,
 * };
 * ```
 */
export interface PostgresSessionStorageOptions
  extends ServerSessionStorageOptions {
  /**
   * The table that holds the sessions: letters, digits and underscores, not
   * starting with a digit. It is looked up on the connection's
   * `search_path`.
   *
   * @default {"sessions"}
   */
  table?: string;
  /**
   * Whether the store creates the table and its index when they are
   * missing, before its first statement. Set it to `false` when your
   * migrations create them (the SQL is in the README) and the app's
   * database user may not create tables.
   *
   * @default {true}
   */
  createTable?: boolean;
}

/**
 * A session storage backed by PostgreSQL, with a method to sweep out
 * expired sessions.
 *
 * @example
 * ```ts
 * import pg from "pg";
 * import { createPostgresSessionStorage } from "@x/session/postgres-storage";
 *
 * export function sweepHourly(pool: pg.Pool) {
 *   const storage = createPostgresSessionStorage(pool, { ttl: 86400 });
 *   return setInterval(() => storage.deleteExpired(), 3_600_000);
 * }
 * ```
 */
export interface PostgresSessionStorage extends SessionStorage, SessionIndex {
  /**
   * Deletes every expired session in one indexed `DELETE` and resolves to
   * how many it deleted; under a `ttl` or a `maxLifetime`, that includes the
   * rows written while neither was set, which have no expiry. `read` never returns an expired session either
   * way; run this now and then, for example once an hour, to keep the
   * table small.
   */
  deleteExpired(): Promise<number>;
}

/**
 * The SQL that creates the store's table and index, as the store runs it
 * when `createTable` is on: for migrations, print it with the table name
 * your app uses.
 *
 * @example
 * ```ts
 * import { postgresSessionTableSql } from "@x/session/postgres-storage";
 * import assert from "node:assert/strict";
 *
 * assert.match(postgresSessionTableSql("sessions"), /CREATE TABLE IF NOT EXISTS/);
 * ```
 *
 * @param table The table name, as passed in the `table` option.
 * @returns `CREATE ... IF NOT EXISTS` statements for the table and its
 * indexes, and the `ALTER TABLE` that adds the per-user index's column to a
 * table created before it.
 * @throws {TypeError} When `table` is not a plain SQL name.
 */
export function postgresSessionTableSql(table = "sessions"): string {
  const name = checkTableName("postgresSessionTableSql", table);
  return `CREATE TABLE IF NOT EXISTS "${name}" (
  id text PRIMARY KEY,
  data text NOT NULL,
  version bigint NOT NULL,
  expires bigint,
  user_key text
);
ALTER TABLE "${name}" ADD COLUMN IF NOT EXISTS user_key text;
CREATE INDEX IF NOT EXISTS "${name}_expires" ON "${name}" (expires)
  WHERE expires IS NOT NULL;
CREATE INDEX IF NOT EXISTS "${name}_user_key" ON "${name}" (user_key)
  WHERE user_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS "${name}_no_expiry" ON "${name}" (id)
  WHERE expires IS NULL;
`;
}

// Two servers starting at once would both try to create the table, and one
// of them would fail: a lock, held until the statements' implicit
// transaction ends, makes them take turns. Its key is arbitrary.
const CREATE_LOCK = "SELECT pg_advisory_xact_lock(7364021597);\n";

/**
 * Creates a session storage that keeps each session as one row of a
 * PostgreSQL table: the id, the session as JSON text, a version that every
 * save increments, the expiry time (Unix ms, indexed; `NULL` for none) and,
 * for the per-user index (`indexBy`), a hash of the user value (`user_key`,
 * indexed): listing a user's sessions is one indexed `SELECT`.
 * {@linkcode postgresSessionTableSql} prints the table.
 *
 * Every save is one statement and a compare-and-set on the version: a
 * request that saves a session someone else saved since it was read merges
 * its changes into the newer row instead of overwriting it. A save after
 * `regenerateId(true)` creates the new row and deletes the old one in the
 * same statement. When the database cannot be reached, `read` and `save`
 * reject with an error naming the store; the next call tries again.
 *
 * @example Counting visits
 * ```ts
 * import pg from "pg";
 * import { createPostgresSessionStorage } from "@x/session/postgres-storage";
 *
 * const pool = new pg.Pool({ connectionString: "postgres://127.0.0.1/app" });
 * const storage = createPostgresSessionStorage(pool);
 *
 * export async function countVisit(cookie: string | null) {
 *   const session = await storage.read(cookie);
 *   session.set("count", Number(session.get("count") ?? 0) + 1);
 *   return { session, cookie: await storage.save(session) };
 * }
 * ```
 *
 * @param client A client whose `query` runs statements with `$1`-style
 * parameters; the store never connects or closes it.
 * @param options The table, whether to create it, how sessions expire and
 * whether unknown ids are adopted.
 * @returns The session storage.
 * @throws {TypeError} When `client` has no `query` method, or `table` is
 * not a plain SQL name.
 * @throws {RangeError} When `ttl` is not a positive number.
 */
export function createPostgresSessionStorage(
  client: PostgresSessionClient,
  options: PostgresSessionStorageOptions = {},
): PostgresSessionStorage {
  const { settings, call } = setUpStore(CLIENT, client, options);
  const table = `"${
    checkTableName(CLIENT.factory, options.table ?? "sessions")
  }"`;

  const create = CREATE_LOCK + postgresSessionTableSql(options.table);
  let created: Promise<unknown> | undefined;
  async function query(text: string, values: (string | number | null)[]) {
    if (options.createTable ?? true) {
      // Once, before the first statement; tried again after a failure.
      created ??= client.query(create).catch((error) => {
        created = undefined;
        throw error;
      });
      await created;
    }
    return (await client.query(text, values)).rows;
  }

  const select = `SELECT data, version::text AS version FROM ${table} ` +
    "WHERE id = $1";
  // Creates the row, or takes over an expired one left under the same id.
  const insert = `INSERT INTO ${table} AS s (id, data, version, expires, ` +
    "user_key) VALUES ($1, $2, $5, $3, $6) ON CONFLICT (id) DO UPDATE SET " +
    "data = excluded.data, version = s.version + 1, " +
    "expires = excluded.expires, user_key = excluded.user_key " +
    "WHERE s.expires <= $4 RETURNING 1 AS ok";
  const update = `UPDATE ${table} SET data = $2, version = version + 1, ` +
    "expires = $3, user_key = $5 WHERE id = $1 AND version = $4 " +
    "RETURNING 1 AS ok";
  // The new row is written only when the old one, unchanged since it was
  // read, was deleted; both in one statement, so neither happens alone. A
  // new id is random: it never collides with a row that exists.
  const move = `WITH old AS (DELETE FROM ${table} WHERE id = $4 AND ` +
    `version = $5 RETURNING 1) INSERT INTO ${table} (id, data, version, ` +
    "expires, user_key) SELECT $1, $2, $6, $3, $7 FROM old " +
    "ON CONFLICT (id) DO NOTHING RETURNING 1 AS ok";

  const storage = createServerSessionStorage({
    // PostgreSQL text cannot hold a NUL character.
    accepts: (id) => !id.includes("\0"),
    load: (id) =>
      call("read a session", async () => {
        const [row] = await query(select, [id]);
        return row
          ? { text: row.data as string, version: Number(row.version) }
          : undefined;
      }),
    write: ({ id, text, expires, expected, oldId, oldExpected, user }) =>
      call("write a session", async () => {
        const rows = oldId !== undefined
          ? await query(move, [
            id,
            text,
            expires,
            oldId,
            oldExpected as number,
            firstVersion(),
            user,
          ])
          : expected === undefined
          ? await query(insert, [
            id,
            text,
            expires,
            Date.now(),
            firstVersion(),
            user,
          ])
          : await query(update, [id, text, expires, expected as number, user]);
        return rows.length > 0;
      }),
    delete: (ids) =>
      call("delete a session", async () => {
        await query(
          `DELETE FROM ${table} WHERE id IN (${
            ids.map((_, i) => `$${i + 1}`).join(", ")
          })`,
          [...ids],
        );
      }),
    discard: (id, version) =>
      call("delete an expired session", async () => {
        await query(`DELETE FROM ${table} WHERE id = $1 AND version = $2`, [
          id,
          version as number,
        ]);
      }),
    // The index is the row's user_key column, written with the row.
    index: {
      add() {},
      entries: (user) =>
        call("list a user's sessions", async () => {
          const rows = await query(
            `SELECT id FROM ${table} WHERE user_key = $1`,
            [user],
          );
          return rows.map((row) => row.id as string);
        }),
      remove() {},
    },
  }, settings);

  return {
    ...storage,
    deleteExpired: () =>
      call("delete expired sessions", async () => {
        const [row] = await query(
          `WITH gone AS (DELETE FROM ${table} WHERE expires <= $1 ` +
            // Under a ttl or a maxLifetime, a row without an expiry is expired.
            (settings.expiry.bounded ? "OR expires IS NULL " : "") +
            "RETURNING 1) SELECT count(*)::int AS n FROM gone",
          [Date.now()],
        );
        return Number(row.n);
      }),
  };
}

// What the store's errors say about its client.
const CLIENT = {
  factory: "createPostgresSessionStorage",
  argument: "client",
  what: "a PostgreSQL client",
  methods: ["query"],
  advice: 'Pass a Pool from the "pg" package, or an adapter (see ' +
    "PostgresSessionClient).",
  hint: "Check that the database is reachable and the table is there.",
};
