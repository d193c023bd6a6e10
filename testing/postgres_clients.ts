// The two PostgreSQL adapters that PostgresSessionClient's documentation
// shows, for the tests and the benchmarks that run the store through them.

import { createHash } from "node:crypto";
import type pg from "pg";
import type postgres from "postgres";
import type { PostgresSessionClient } from "../postgres_storage.ts";

/** A `pg` pool whose statements with values are prepared, by name. */
export function withNamedStatements(pool: pg.Pool): PostgresSessionClient {
  return {
    query: (text, values) =>
      pool.query(
        values === undefined ? text : {
          name: createHash("sha1").update(text).digest("base64url"),
          text,
          values,
        },
      ),
  };
}

/** postgres.js, preparing each statement that has values. */
export function fromPostgresJs(sql: postgres.Sql): PostgresSessionClient {
  return {
    query: async (text, values) => ({
      rows: await sql.unsafe(
        text,
        values as postgres.ParameterOrJSON<never>[],
        { prepare: values !== undefined },
      ),
    }),
  };
}
