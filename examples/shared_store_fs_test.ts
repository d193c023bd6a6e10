// check: runtimes deno bun node26

// Two app servers, under the runtime running this test, share one sessions
// folder through the fs store: separate processes, as on one machine.

import { after, describe } from "node:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  currentRuntime,
  startApp,
  testSeveralServers,
} from "./_shared_store_servers.ts";

describe("several servers, one fs folder", () => {
  const folder = mkdtempSync(join(tmpdir(), "x-session-shared-fs-"));
  const secret = randomBytes(32).toString("base64");

  after(() => rmSync(folder, { recursive: true, force: true }));

  testSeveralServers("fs store", (name) =>
    startApp(currentRuntime(), {
      SESSION_STORE: "fs",
      SESSION_DIR: folder,
      SESSION_SECRET: secret,
      SERVER_NAME: name,
    }));
});
