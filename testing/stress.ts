// The full reliability run that `deno task stress` calls: the cookie tests
// (tampering, large headers), and the crash, fault, property and load tests
// with STRESS=1, which turns on their long forms
// (24 SIGKILL rounds, 1,000 inputs per property, 2,000 clients × 21
// requests against Deno, Node 26 and Bun servers). About 15 minutes on
// 2 cores. Each test prints its figures; RELIABILITY.md records them.
//
// Usage: deno task stress [TEST_FILE...]

import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import process from "node:process";
import { repoPath } from "./repo_root.ts";

// The cookie tests, and every system-level test in this folder: each one
// that has a long form reads STRESS itself.
const FILES = [
  "cookie_test.ts",
  ...readdirSync(repoPath("testing"))
    .filter((name) => name.endsWith("_test.ts"))
    .map((name) => `testing/${name}`),
];

const files = process.argv.length > 2 ? process.argv.slice(2) : FILES;
const result = spawnSync(
  repoPath("node_modules", ".bin", "deno"),
  ["test", "-A", ...files],
  {
    cwd: repoPath(),
    stdio: "inherit",
    env: { ...process.env, STRESS: "1" },
  },
);
process.exit(result.status ?? 1);
