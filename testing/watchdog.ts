// Test helper: the servers a test starts (PostgreSQL, redis-server) must not
// outlive the test run, not even one ended by SIGTERM (a timeout, a cancelled
// CI job) or SIGKILL, where no "exit" listener runs. A detached shell, in a
// process group of its own so that the signal that ends the run does not
// reach it, looks for the test process twice a second and cleans up once it
// is gone. Not part of the public API.

import { spawn } from "node:child_process";
import process from "node:process";

/**
 * Runs `commands` (each a program and its arguments) one after the other,
 * once this process has ended, however it ended. Returns a function that
 * calls the watchdog off, for a server stopped the usual way.
 */
export function cleanUpAfterExit(commands: string[][]): () => void {
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; ` +
    `done; ${
      commands.map((command) =>
        `${command.map(quote).join(" ")} >/dev/null 2>&1`
      )
        .join("; ")
    }`;
  const watchdog = spawn("sh", ["-c", script], {
    detached: true,
    stdio: "ignore",
  });
  watchdog.unref();
  return () => {
    try {
      process.kill(watchdog.pid!, "SIGKILL");
    } catch {
      // It has ended already.
    }
  };
}

// One word for sh, whatever it holds.
function quote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
