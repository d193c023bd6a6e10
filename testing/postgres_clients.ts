// The postgres.js adapter that PostgresSessionClient's documentation shows,
// for the tests and the benchmarks that run the store through it.

import type postgres from "postgres";
import type { PostgresSessionClient } from "../postgres_storage.ts";

/** postgres.js, preparing each statement the store names. */
export function fromPostgresJs(sql: postgres.Sql): PostgresSessionClient {
  return {
    query: async ({ text, values, name }) => ({
      rows: await sql.unsafe(
        text,
        values as postgres.ParameterOrJSON<never>[],
        { prepare: name !== undefined },
      ),
    }),
  };
}
