/**
 * A session store that keeps sessions in a SQLite database: the store for
 * an app on one machine. Several processes can share one database file, a
 * killed process loses nothing that was saved, and expiry is an indexed
 * column.
 *
 * The store takes an open database: a `DatabaseSync` from `node:sqlite`
 * (Deno, Node 22.13 or later, Bun), a `Database` from `bun:sqlite`, or
 * anything with the same `prepare` and `exec` methods. This module imports
 * no SQLite driver itself, so it loads where there is none.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { createSqliteSessionStorage } from "@x/session/sqlite-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createSqliteSessionStorage(new DatabaseSync(":memory:"));
 * const session = await storage.read(null);
 * session.set("theme", "dark");
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("theme"), "dark");
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
 * A value the store binds to a statement parameter, or reads from a column.
 *
 * @example
 * ```ts
 * import type { SqliteValue } from "@x/session/sqlite-storage";
 *
 * const expires: SqliteValue = Date.now() + 3_600_000;
 * ```
 */
export type SqliteValue = string | number | bigint | null;

/**
 * A prepared statement, as {@linkcode SqliteDatabase.prepare} returns it.
 * Parameters are positional (`?` in the SQL).
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import type { SqliteStatement } from "@x/session/sqlite-storage";
 * import assert from "node:assert/strict";
 *
 * const statement: SqliteStatement = new DatabaseSync(":memory:")
 *   .prepare("SELECT ? + 1 AS n");
 * assert.deepEqual({ ...statement.get(1) as object }, { n: 2 });
 * ```
 */
export interface SqliteStatement {
  /** The first row as an object keyed by column name; no row: `undefined` or `null`. */
  get(...params: SqliteValue[]): unknown;
  /** Runs the statement; `changes` is the number of rows it changed. */
  run(...params: SqliteValue[]): { changes: number | bigint };
  /**
   * Every row, each an object keyed by column name. Needed only with the
   * `indexBy` option.
   */
  all?(...params: SqliteValue[]): unknown[];
}

/**
 * The part of a SQLite database the store uses. A `DatabaseSync` from
 * `node:sqlite` and a `Database` from `bun:sqlite` are ones as they are.
 *
 * @example With bun:sqlite
 * ```ts ignore
 * import { Database } from "bun:sqlite";
 * import { createSqliteSessionStorage } from "@x/session/sqlite-storage";
 *
 * const storage = createSqliteSessionStorage(new Database("sessions.db"));
 * ```
 */
export interface SqliteDatabase {
  /** Compiles one SQL statement. */
  prepare(sql: string): SqliteStatement;
  /** Runs one SQL statement that takes no parameters. */
  exec(sql: string): unknown;
}

/**
 * Options for {@linkcode createSqliteSessionStorage}.
 *
 * @example
 * ```ts
 * import type { SqliteSessionStorageOptions } from "@x/session/sqlite-storage";
 *
 * const options: SqliteSessionStorageOptions = { table: "app_sessions", ttl: 86400 };
 * ```
 */
export interface SqliteSessionStorageOptions
  extends ServerSessionStorageOptions {
  /**
   * The table that holds the sessions, created with its index when missing:
   * letters, digits and underscores, not starting with a digit.
   *
   * @default {"sessions"}
   */
  table?: string;
}

/**
 * A session storage backed by SQLite, with a method to sweep out expired
 * sessions.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { createSqliteSessionStorage } from "@x/session/sqlite-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createSqliteSessionStorage(new DatabaseSync(":memory:"), {
 *   ttl: 3600,
 * });
 * assert.equal(await storage.deleteExpired(), 0);
 * ```
 */
export interface SqliteSessionStorage extends SessionStorage, SessionIndex {
  /**
   * Deletes every expired session in one indexed `DELETE` and resolves to
   * how many it deleted; under a `ttl` or a `maxLifetime`, that includes the
   * rows written while neither was set, which have no expiry. `read` never returns an expired session either
   * way; run this now and then, for example once an hour, to keep the
   * table small.
   */
  deleteExpired(): Promise<number>;
}

const BUSY_TIMEOUT_MS = 5000;

// A row as it was read, handed back to the write as its expected version.
interface RowVersion {
  version: number;
  expires: number | null;
  user: string | null;
}

/**
 * Creates a session storage that keeps each session as one row of a SQLite
 * table: the id, the session as JSON, a version that every save increments,
 * the expiry time (Unix ms, indexed; `NULL` for none) and, for the per-user
 * index (`indexBy`), a hash of the user value (`user_key`, indexed; the
 * column is added to a table that lacks it).
 *
 * At creation the store creates the table and its index if they are
 * missing, switches the database to write-ahead logging (`journal_mode =
 * WAL`) with `synchronous = NORMAL` (a killed process loses no save; a power
 * cut can lose the last ones but never corrupts the file: run
 * `PRAGMA synchronous = FULL` on the database afterwards to sync every
 * save), and sets a busy timeout of 5 seconds unless one is set, so that
 * several processes can share the file.
 *
 * Every save is a compare-and-set on the version: a request that saves a
 * session someone else saved since it was read merges its changes into the
 * newer row instead of overwriting it.
 *
 * @example Counting visits
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * import { createSqliteSessionStorage } from "@x/session/sqlite-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createSqliteSessionStorage(new DatabaseSync(":memory:"));
 *
 * async function countVisit(cookie: string | null) {
 *   const session = await storage.read(cookie);
 *   session.set("count", Number(session.get("count") ?? 0) + 1);
 *   return { session, cookie: await storage.save(session) };
 * }
 *
 * const first = await countVisit(null);
 * const second = await countVisit(first.cookie);
 * assert.equal(second.session.get("count"), 2);
 * ```
 *
 * @param database An open database; the store never closes it.
 * @param options The table, how sessions expire and whether unknown ids are
 * adopted.
 * @returns The session storage.
 * @throws {TypeError} When `database` lacks `prepare` or `exec`, or `table`
 * is not a plain SQL name.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 */
export function createSqliteSessionStorage(
  database: SqliteDatabase,
  options: SqliteSessionStorageOptions = {},
): SqliteSessionStorage {
  const { settings, call } = setUpStore(DATABASE, database, options);
  const table = checkTableName(DATABASE.factory, options.table ?? "sessions");

  let statements: ReturnType<typeof openTable>;
  try {
    statements = openTable(database, table);
  } catch (error) {
    throw new Error(
      `${DATABASE.factory}: could not set up the table "${table}" (${
        (error as Error)?.message ?? String(error)
      }). ${DATABASE.hint}`,
      { cause: error },
    );
  }
  const {
    select,
    insert,
    update,
    updateData,
    deleteVersion,
    deleteId,
    sweep,
    sweepUnbounded,
    byUser,
  } = statements;
  if (settings.indexBy !== undefined && typeof byUser.all !== "function") {
    throw new TypeError(
      `${DATABASE.factory}: option "indexBy" needs statements with an ` +
        `"all" method, which this database's lack. Pass node:sqlite's ` +
        "DatabaseSync or bun:sqlite's Database.",
    );
  }

  // Each statement runs to completion before any other JavaScript: the
  // transactions below never interleave with another save of this process,
  // and SQLite's locks keep other processes out.
  function inTransaction(body: () => boolean): boolean {
    database.exec("BEGIN IMMEDIATE");
    try {
      const done = body();
      database.exec(done ? "COMMIT" : "ROLLBACK");
      return done;
    } catch (error) {
      database.exec("ROLLBACK");
      throw error;
    }
  }

  const storage = createServerSessionStorage({
    load: (id) =>
      call("read a session", async () => {
        const row = select.get(id) as
          | {
            data: string;
            version: number | bigint;
            expires: number | bigint | null;
            user_key: string | null;
          }
          | null
          | undefined;
        if (!row) return undefined;
        const version: RowVersion = {
          version: Number(row.version),
          expires: row.expires === null ? null : Number(row.expires),
          user: row.user_key,
        };
        return { text: row.data, version };
      }),
    write: ({ id, text, expires, expected, oldId, oldExpected, user }) =>
      call("write a session", async () => {
        const read = expected as RowVersion | undefined;
        const write = () =>
          read === undefined
            ? insert.run(id, text, firstVersion(), expires, user, Date.now())
              .changes > 0
            // A row whose version is unchanged still has the expiry and
            // user it was read with: leaving out the columns whose values
            // stay spares SQLite the upkeep of their indexes, which costs
            // more than writing the row.
            : read.expires === expires && read.user === user
            ? updateData.run(text, id, read.version).changes > 0
            : update.run(text, expires, user, id, read.version).changes > 0;
        if (oldId === undefined) return write();
        return inTransaction(() =>
          write() &&
          deleteVersion.run(oldId, (oldExpected as RowVersion).version)
              .changes > 0
        );
      }),
    delete: (ids) =>
      call("delete a session", async () => {
        if (ids.length === 1) deleteId.run(ids[0]);
        else inTransaction(() => (ids.forEach((id) => deleteId.run(id)), true));
      }),
    discard: (id, version) =>
      call("delete an expired session", async () => {
        deleteVersion.run(id, (version as RowVersion).version);
      }),
    // The index is the row's user_key column, written with the row.
    index: {
      add() {},
      entries: (user) =>
        call(
          "list a user's sessions",
          async () =>
            (byUser.all!(user) as { id: string }[]).map((row) => row.id),
        ),
      remove() {},
    },
  }, settings);

  return {
    ...storage,
    deleteExpired: () =>
      call(
        "delete expired sessions",
        async () =>
          Number(sweep.run(Date.now()).changes) +
          // Under a ttl or a maxLifetime, a row without an expiry is expired.
          (settings.expiry.bounded ? Number(sweepUnbounded.run().changes) : 0),
      ),
  };
}

// Prepares the database for several processes, creates the table and its
// index if they are missing, and compiles the store's statements.
function openTable(database: SqliteDatabase, table: string) {
  const busy = database.prepare("PRAGMA busy_timeout").get() as
    | { timeout?: number }
    | undefined;
  if (!busy?.timeout) database.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
  database.exec("PRAGMA journal_mode = WAL");
  database.exec("PRAGMA synchronous = NORMAL");
  database.exec(
    `CREATE TABLE IF NOT EXISTS "${table}" (id TEXT PRIMARY KEY NOT NULL, ` +
      "data TEXT NOT NULL, version INTEGER NOT NULL, expires INTEGER)",
  );
  database.exec(
    `CREATE INDEX IF NOT EXISTS "${table}_expires" ON "${table}" (expires) ` +
      "WHERE expires IS NOT NULL",
  );
  // Tables created before the per-user index lack its column.
  const hasUserKey = database.prepare(
    "SELECT count(*) AS n FROM pragma_table_info(?) WHERE name = 'user_key'",
  ).get(table) as { n: number | bigint };
  if (Number(hasUserKey.n) === 0) {
    database.exec(`ALTER TABLE "${table}" ADD COLUMN user_key TEXT`);
  }
  database.exec(
    `CREATE INDEX IF NOT EXISTS "${table}_user_key" ON "${table}" ` +
      "(user_key) WHERE user_key IS NOT NULL",
  );
  // The rows a sweep under a ttl or a maxLifetime deletes for having no
  // expiry: none once a sweep has run, so this index stays small.
  database.exec(
    `CREATE INDEX IF NOT EXISTS "${table}_no_expiry" ON "${table}" (id) ` +
      "WHERE expires IS NULL",
  );

  return {
    select: database.prepare(
      `SELECT data, version, expires, user_key FROM "${table}" WHERE id = ?`,
    ),
    // Creates the row, or takes over an expired one left under the same id.
    insert: database.prepare(
      `INSERT INTO "${table}" (id, data, version, expires, user_key) ` +
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET " +
        `data = excluded.data, version = "${table}".version + 1, ` +
        "expires = excluded.expires, user_key = excluded.user_key " +
        `WHERE "${table}".expires <= ?`,
    ),
    update: database.prepare(
      `UPDATE "${table}" SET data = ?, version = version + 1, expires = ?, ` +
        "user_key = ? WHERE id = ? AND version = ?",
    ),
    updateData: database.prepare(
      `UPDATE "${table}" SET data = ?, version = version + 1 ` +
        "WHERE id = ? AND version = ?",
    ),
    deleteVersion: database.prepare(
      `DELETE FROM "${table}" WHERE id = ? AND version = ?`,
    ),
    deleteId: database.prepare(`DELETE FROM "${table}" WHERE id = ?`),
    sweep: database.prepare(`DELETE FROM "${table}" WHERE expires <= ?`),
    sweepUnbounded: database.prepare(
      `DELETE FROM "${table}" WHERE expires IS NULL`,
    ),
    byUser: database.prepare(
      `SELECT id FROM "${table}" WHERE user_key = ?`,
    ),
  };
}

// What the store's errors say about its database.
const DATABASE = {
  factory: "createSqliteSessionStorage",
  argument: "database",
  what: "a SQLite database",
  methods: ["prepare", "exec"],
  advice: 'Pass `new DatabaseSync(path)` from "node:sqlite", or ' +
    '`new Database(path)` from "bun:sqlite".',
  hint: "Check that the database is open and its file writable.",
};
