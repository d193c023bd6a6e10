// check: runtimes deno bun node26

// Two app servers, under the runtime running this test, share one sessions
// folder through the fs store: separate processes, as on one machine.

import { after, describe } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testSeveralServers } from "./_shared_store_servers.ts";

describe("several servers, one fs folder", () => {
  const folder = mkdtempSync(join(tmpdir(), "x-session-shared-fs-"));

  after(() => rmSync(folder, { recursive: true, force: true }));

  testSeveralServers("fs store", () => ({
    SESSION_STORE: "fs",
    SESSION_DIR: folder,
  }));
});
