/**
 * A session store that keeps sessions in PostgreSQL: for apps that run on
 * more than one server and already have a database. Every server that talks
 * to the same database sees the same sessions, so no sticky sessions are
 * needed.
 *
 * The store takes a client: a `Pool` or `Client` of the `pg` package fits
 * as it is, `postgres` (postgres.js) through a few-line adapter, see
 * {@linkcode PostgresSessionClient}. It names its statements so that the
 * client prepares each once per connection; the option `prepare: false`
 * turns that off for connection poolers that do not keep prepared
 * statements.
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
import {
  booleanOption,
  createServerSessionStorage,
  setUpStore,
} from "./_server_storage.ts";
import { checkTableName, firstVersion } from "./_sql.ts";
import { createHmacSha256 } from "./_hmac_sha256.ts";
import { encodeBase64url } from "./_base64url.ts";

// PostgreSQL cuts a name at 63 bytes: the names of a longer table's indexes
// ("<table>_no_expiry", ...) would be cut short, and for a table of 63
// characters cut to the table's own name, which IF NOT EXISTS then skips:
// the table would silently go without its indexes.
const LONGEST_TABLE = 63 - "_no_expiry".length;

/**
 * A statement the store runs, in the shape of the `pg` package's
 * `QueryConfig`: the SQL `text`, the `values` bound to its `$1`, `$2`, ...,
 * and, when the store prepares it, a `name`.
 *
 * A statement with a name is prepared once per connection and reused: `pg`
 * does that for any statement that has one, which saves PostgreSQL parsing
 * and planning it on every call. The store names each of its statements
 * with values, unless the option `prepare` is `false`, after a digest of
 * its text, so two stores on different tables never share a name. The
 * table's creation holds several statements, which cannot be prepared: it
 * comes without a name and without values.
 *
 * @example
 * ```ts
 * import {
 *   createPostgresSessionStorage,
 *   type PostgresStatement,
 * } from "@x/session/postgres-storage";
 * import assert from "node:assert/strict";
 *
 * const sent: PostgresStatement[] = [];
 * const storage = createPostgresSessionStorage({
 *   query: async (statement) => {
 *     sent.push(statement);
 *     return { rows: [] };
 *   },
 * }, { createTable: false });
 * await storage.read("an-unknown-session-id");
 * assert.match(sent[0].text, /^SELECT data/);
 * assert.deepEqual(sent[0].values, ["an-unknown-session-id"]);
 * assert.ok(sent[0].name !== undefined && sent[0].name.length <= 63);
 * ```
 */
export interface PostgresStatement {
  /** The SQL, with `$1`-style parameters. */
  text: string;
  /**
   * The values of the parameters, in order. Left out, `text` may hold
   * several statements (the table's creation).
   */
  values?: (string | number | null)[];
  /**
   * The name to prepare the statement under on a connection, at most 63
   * bytes; left out for a statement that is not to be prepared.
   */
  name?: string;
}

/**
 * The part of a PostgreSQL client the store uses: one method that runs a
 * {@linkcode PostgresStatement} and resolves to its rows. A `Pool` or
 * `Client` of the `pg` package is one as it is, and prepares the store's
 * statements by their names. The store runs every statement on its own,
 * never inside a transaction of yours, so a pool is the natural choice.
 *
 * Behind a connection pooler that does not keep prepared statements from
 * one transaction to the next (PgBouncer in transaction mode before 1.21,
 * some serverless proxies), pass the option `prepare: false`.
 *
 * @example `pg`, as it is
 * ```ts
 * import pg from "pg";
 * import type { PostgresSessionClient } from "@x/session/postgres-storage";
 *
 * export function openClient(url: string): PostgresSessionClient {
 *   return new pg.Pool({ connectionString: url });
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
 *     query: async ({ text, values, name }) => ({
 *       rows: await sql.unsafe(
 *         text,
 *         values as postgres.ParameterOrJSON<never>[],
 *         { prepare: name !== undefined },
 *       ),
 *     }),
 *   };
 * }
 * ```
 */
export interface PostgresSessionClient {
  /**
   * Runs `statement` and resolves to the rows, each an object keyed by
   * column name.
   */
  query(
    statement: PostgresStatement,
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
   * starting with a digit, at most 53 characters (PostgreSQL cuts names at
   * 63 bytes, and the store names its indexes after the table). It is
   * looked up on the connection's `search_path`.
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
  /**
   * Whether the store names its statements, so that the client prepares
   * each once per connection (see {@linkcode PostgresStatement}). Set it to
   * `false` behind a connection pooler that does not keep prepared
   * statements, such as PgBouncer in transaction mode before 1.21.
   *
   * @default {true}
   */
  prepare?: boolean;
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
  const name = checkTableName("postgresSessionTableSql", table, LONGEST_TABLE);
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
 * @param options The table, whether to create it, whether to prepare the
 * statements, how sessions expire and whether unknown ids are adopted.
 * @returns The session storage.
 * @throws {TypeError} When `client` has no `query` method, `table` is not a
 * plain SQL name, or `prepare` is not a boolean.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 */
export function createPostgresSessionStorage(
  client: PostgresSessionClient,
  options: PostgresSessionStorageOptions = {},
): PostgresSessionStorage {
  const { settings, call } = setUpStore(CLIENT, client, options);
  const table = `"${
    checkTableName(CLIENT.factory, options.table ?? "sessions", LONGEST_TABLE)
  }"`;

  const prepare = booleanOption(
    CLIENT.factory,
    "prepare",
    options.prepare,
    true,
    "Leave it out to prepare the store's statements, or pass false behind " +
      "a connection pooler that does not keep prepared statements.",
  );
  const createTable = booleanOption(
    CLIENT.factory,
    "createTable",
    options.createTable,
    true,
    "Leave it out to create the table when it is missing, or pass false " +
      "when your migrations create it.",
  );
  // Each statement's name is fixed here, once: a call only adds values.
  const statement = (text: string): PostgresStatement =>
    prepare ? { name: statementName(text), text } : { text };

  const create = CREATE_LOCK + postgresSessionTableSql(options.table);
  let created: Promise<unknown> | undefined;
  async function query(
    statement: PostgresStatement,
    values: (string | number | null)[],
  ) {
    if (createTable) {
      // Once, before the first statement; tried again after a failure.
      // Several statements: sent without values, so not prepared.
      created ??= client.query({ text: create }).catch((error) => {
        created = undefined;
        throw error;
      });
      await created;
    }
    return (await client.query({ ...statement, values })).rows;
  }

  const select = statement(
    `SELECT data, version::text AS version FROM ${table} WHERE id = $1`,
  );
  // Creates the row, or takes over an expired one left under the same id.
  const insert = statement(
    `INSERT INTO ${table} AS s (id, data, version, expires, user_key) ` +
      "VALUES ($1, $2, $5, $3, $6) ON CONFLICT (id) DO UPDATE SET " +
      "data = excluded.data, version = s.version + 1, " +
      "expires = excluded.expires, user_key = excluded.user_key " +
      "WHERE s.expires <= $4 RETURNING 1 AS ok",
  );
  const update = statement(
    `UPDATE ${table} SET data = $2, version = version + 1, expires = $3, ` +
      "user_key = $5 WHERE id = $1 AND version = $4 RETURNING 1 AS ok",
  );
  // The new row is written only when the old one, unchanged since it was
  // read, was deleted; both in one statement, so neither happens alone. A
  // new id is random: it never collides with a row that exists.
  const move = statement(
    `WITH old AS (DELETE FROM ${table} WHERE id = $4 AND version = $5 ` +
      `RETURNING 1) INSERT INTO ${table} (id, data, version, expires, ` +
      "user_key) SELECT $1, $2, $6, $3, $7 FROM old " +
      "ON CONFLICT (id) DO NOTHING RETURNING 1 AS ok",
  );
  // A save deletes one id, or two after a regenerate: one statement for
  // both, given the same id twice for one.
  const deleteTwo = statement(`DELETE FROM ${table} WHERE id IN ($1, $2)`);
  const discard = statement(
    `DELETE FROM ${table} WHERE id = $1 AND version = $2`,
  );
  const userSessions = statement(`SELECT id FROM ${table} WHERE user_key = $1`);
  const deleteExpired = statement(
    `WITH gone AS (DELETE FROM ${table} WHERE expires <= $1 ` +
      // Under a ttl or a maxLifetime, a row without an expiry is expired.
      (settings.expiry.bounded ? "OR expires IS NULL " : "") +
      "RETURNING 1) SELECT count(*)::int AS n FROM gone",
  );

  const storage = createServerSessionStorage({
    // Longer ids, or ids with a NUL, are no ids this store issued, and
    // PostgreSQL refuses them: text cannot hold a NUL character, and an entry
    // of the primary key's index at most 2,704 bytes (512 UTF-16 code units
    // take at most 1,536 bytes in UTF-8).
    accepts: (id) => id.length <= 512 && !id.includes("\0"),
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
        for (let at = 0; at < ids.length; at += 2) {
          await query(deleteTwo, [ids[at], ids[at + 1] ?? ids[at]]);
        }
      }),
    discard: (id, version) =>
      call("delete an expired session", async () => {
        await query(discard, [id, version as number]);
      }),
    // The index is the row's user_key column, written with the row.
    index: {
      add() {},
      entries: (user) =>
        call("list a user's sessions", async () => {
          const rows = await query(userSessions, [user]);
          return rows.map((row) => row.id as string);
        }),
      remove() {},
    },
  }, settings);

  return {
    ...storage,
    deleteExpired: () =>
      call("delete expired sessions", async () => {
        const [row] = await query(deleteExpired, [Date.now()]);
        return Number(row.n);
      }),
  };
}

// HMAC-SHA256 under a fixed key stands in for SHA-256: two statements would
// share a name only through a SHA-256 collision.
const digest = createHmacSha256(new TextEncoder().encode("@x/session"));

/**
 * The name a statement is prepared under: a digest of its text, which holds
 * the table's name, so stores on different tables sharing a connection
 * never reuse each other's. 53 bytes, under PostgreSQL's 63.
 */
function statementName(text: string): string {
  const bytes = new Uint8Array(32);
  // The text is ASCII (the table's name is), as the digest requires.
  digest(text, bytes);
  return `x_session_${encodeBase64url(bytes)}`;
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
