// check: runtimes deno bun node26; needs postgres

// Two app servers, under the runtime running this test, share one
// PostgreSQL database; one is killed with SIGKILL midway.

import { after, before, describe } from "node:test";
import { randomBytes } from "node:crypto";
import {
  type PostgresServer,
  startPostgresServer,
} from "../testing/postgres_server.ts";
import {
  currentRuntime,
  startApp,
  testSeveralServers,
} from "./_shared_store_servers.ts";

describe("several servers, one PostgreSQL", () => {
  let postgres: PostgresServer;
  const secret = randomBytes(32).toString("base64");

  before(async () => {
    postgres = await startPostgresServer();
  });

  after(async () => {
    await postgres?.stop();
  });

  testSeveralServers("postgres store", (name) =>
    startApp(currentRuntime(), {
      SESSION_STORE: "postgres",
      POSTGRES_URL: postgres.url,
      SESSION_SECRET: secret,
      SERVER_NAME: name,
    }));
});
