// check: runtimes deno; needs postgres redis-server

// The servers a test starts must not outlive a test run that is killed: a
// child starts PostgreSQL, redis-server and a Redis Cluster, is killed with
// SIGKILL (no "exit" listener runs), and every server must stop.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free_port.ts";
import { repoPath } from "./repo_root.ts";

// How long the servers get to stop once their test run is gone.
const STOP_LIMIT_MS = 20_000;
const POLL_MS = 250;

/** Whether something listens on `port` of 127.0.0.1: it cannot be bound. */
const listening = async (port: number) => await freePort(port) === undefined;

/** Waits until `done` holds, or STOP_LIMIT_MS have passed; says which. */
async function until(done: () => Promise<boolean> | boolean) {
  for (let waited = 0; waited < STOP_LIMIT_MS; waited += POLL_MS) {
    if (await done()) return true;
    await sleep(POLL_MS);
  }
  return false;
}

test("watchdog: the servers of a test run killed with SIGKILL stop", async () => {
  const child = spawn(
    repoPath("node_modules", ".bin", "deno"),
    ["run", "-A", repoPath("testing", "watchdog_child.ts")],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let output = "";
  child.stdout.on("data", (chunk) => output += chunk);
  try {
    assert.ok(
      await until(() => output.includes("\n") || child.exitCode !== null),
      "the child started its servers",
    );
    const ports = JSON.parse(output) as {
      postgres: number;
      redis: number;
      cluster: number[];
    };
    const all = [ports.postgres, ports.redis, ...ports.cluster];
    for (const port of all) assert.ok(await listening(port), `port ${port}`);
    child.kill("SIGKILL");
    await exited;
    const stopped = await until(async () =>
      !(await Promise.all(all.map(listening))).some(Boolean)
    );
    const left = [];
    for (const port of all) if (await listening(port)) left.push(port);
    assert.ok(stopped, `servers still listening on ports ${left.join(", ")}`);
  } finally {
    child.kill("SIGKILL");
  }
});

test("watchdog: a clean-up called off does not run, one left on runs once the process is gone", async () => {
  const folder = mkdtempSync(join(tmpdir(), "watchdog-"));
  try {
    // The child leaves one watchdog on, calls one off, and exits.
    const child = spawn(repoPath("node_modules", ".bin", "deno"), [
      "eval",
      `import { cleanUpAfterExit } from ${
        JSON.stringify(repoPath("testing", "watchdog.ts"))
      };
      cleanUpAfterExit([["touch", ${JSON.stringify(join(folder, "kept"))}]]);
      const callOff = cleanUpAfterExit([["touch", ${
        JSON.stringify(join(folder, "called-off"))
      }]]);
      callOff();`,
    ], { stdio: "inherit" });
    await new Promise((resolve) => child.once("exit", resolve));
    assert.ok(
      await until(() => existsSync(join(folder, "kept"))),
      "the clean-up left on ran",
    );
    // The watchdog polls twice a second: the one called off had 4 chances.
    await sleep(2_000);
    assert.equal(existsSync(join(folder, "called-off")), false);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
