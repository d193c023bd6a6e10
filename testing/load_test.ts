// check: runtimes deno

// Load: the demo app, served over loopback, with the fs store and the cookie
// store, driven by at least 1,000 clients that each keep their own cookie
// jar and send their requests in order. No response may be a 5xx, and every
// client's visit counter must equal the pages it requested.
//
// By default: 1,000 clients × 3 page views and a login, against a Deno
// server. With STRESS=1 (`deno task stress`): 2,000 clients × 20 page views
// and a login, against Deno, Node 26 and Bun servers.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLoad } from "./load.ts";

const STRESS = process.env.STRESS === "1";
const CLIENTS = STRESS ? 2000 : 1000;
const PAGE_VIEWS = STRESS ? 20 : 3;
const SERVERS = STRESS ? ["deno", "node", "bun"] as const : ["deno"] as const;
// A bound that the server's resident memory must stay under. Far above what
// the demo needs (about 100 MB), far below what a leak of every response or
// session over the run would take.
const RSS_LIMIT_MB = 1024;

const work = mkdtempSync(join(tmpdir(), "load-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("load", () => {
  for (const runtime of SERVERS) {
    for (const store of ["fs", "cookie"] as const) {
      it(
        `${store} store on a ${runtime} server: ${CLIENTS} clients with their own cookie jars lose no session and get no 5xx`,
        {
          timeout: 1_200_000,
        },
        async () => {
          const directory = mkdtempSync(join(work, `${runtime}-${store}-`));
          const figures = await runLoad({
            runtime,
            store,
            directory,
            clients: CLIENTS,
            requestsPerClient: PAGE_VIEWS,
            concurrency: 64,
            deadlineMs: STRESS ? 900_000 : 300_000,
          });
          console.log(
            `load ${runtime}/${store}: ${figures.requests} requests, ` +
              `${figures.serverErrors} 5xx, ${figures.lostSessions} sessions ` +
              `lost, server RSS ${figures.serverRssStartMb} MB at start, ` +
              `${figures.serverRssPeakMb} MB peak, ${figures.serverRssEndMb} MB ` +
              `at end; client RSS peak ${figures.clientRssPeakMb} MB` +
              (figures.sessionFiles === undefined
                ? ""
                : `; ${figures.sessionFiles} session files`),
          );
          assert.deepEqual(figures.otherFailures.slice(0, 5), []);
          assert.equal(figures.serverErrors, 0, figures.serverLog);
          assert.equal(figures.lostSessions, 0);
          // Every page view and one login per client.
          assert.equal(figures.requests, CLIENTS * (PAGE_VIEWS + 1));
          if (store === "fs") {
            // One session per client: the login deleted each pre-login one.
            assert.equal(figures.sessionFiles, CLIENTS);
          }
          assert.ok(
            figures.serverRssPeakMb < RSS_LIMIT_MB,
            `server RSS peaked at ${figures.serverRssPeakMb} MB`,
          );
        },
      );
    }
  }
});
