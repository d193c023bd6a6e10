// check: runtimes deno bun node26; needs postgres

// Two app servers, under the runtime running this test, share one
// PostgreSQL database; one is killed with SIGKILL midway.

import { after, describe } from "node:test";
import {
  type PostgresServer,
  startPostgresServer,
} from "../testing/postgres_server.ts";
import { testSeveralServers } from "./_shared_store_servers.ts";

// Started here rather than in a hook: Bun gives a hook 5 seconds, which a
// busy machine can take to start it.
const postgres: PostgresServer = await startPostgresServer();

describe("several servers, one PostgreSQL", () => {
  after(async () => {
    await postgres.stop();
  });

  testSeveralServers("postgres store", () => ({
    SESSION_STORE: "postgres",
    POSTGRES_URL: postgres.url,
  }));
});
