// Where the repository is, for tests that start other runtimes on its
// TypeScript sources: found by walking up from this file, so it works from
// the sources and from JavaScript that tsc compiled into dist/.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    if (existsSync(join(dir, "node_modules", ".bin"))) return dir;
    dir = dirname(dir);
  }
  throw new Error(
    `No node_modules/.bin above ${import.meta.url}: run npm ci in the ` +
      "repository first.",
  );
}

const root = findRoot();

/** A path inside the repository, such as `repoPath("examples", "demo.ts")`. */
export function repoPath(...parts: string[]): string {
  return join(root, ...parts);
}
