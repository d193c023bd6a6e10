// check: runtimes deno

// Two Deno app servers share one file-backed Deno KV database. The servers
// are always Deno processes, whichever runtime runs this test.

import { after, describe } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testSeveralServers } from "./_shared_store_servers.ts";

describe("several servers, one Deno KV file", () => {
  const folder = mkdtempSync(join(tmpdir(), "x-session-shared-kv-"));

  after(() => rmSync(folder, { recursive: true, force: true }));

  testSeveralServers("kv store", () => ({
    SESSION_STORE: "kv",
    KV_PATH: join(folder, "sessions.sqlite"),
  }), "deno");
});
