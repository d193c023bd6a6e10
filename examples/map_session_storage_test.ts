// check: runtimes deno bun node26
// The first test file of conformance/README.md, as a store author writes
// it, run on the store kit's example store; and a check that the README
// shows both files as they are here.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { repoPath } from "../testing/repo_root.ts";
// The README shows this file from here on.
import { testSessionStorage } from "../conformance/mod.ts";
import { createMapSessionStorage } from "./map_session_storage.ts";

testSessionStorage({
  name: "map store",
  create: ({ ttl }) => createMapSessionStorage({ ttl }),
  ttl: 0.5,
});

const MARK = "// The README shows this file from here on.\n";

/** A file as the README shows it: from its imports on, with the package's specifiers. */
function shown(file: string): string {
  const text = readFileSync(repoPath("examples", file), "utf8");
  const start = text.includes(MARK)
    ? text.indexOf(MARK) + MARK.length
    : text.indexOf("import");
  return text.slice(start)
    // The check below is not part of the author's file.
    .split("\nconst MARK")[0].trimEnd()
    .replace('"../conformance/mod.ts"', '"@x/session/conformance"')
    .replace('"../store_kit.ts"', '"@x/session/store-kit"');
}

test("conformance/README.md shows the first test file and the map store as they are", () => {
  const readme = readFileSync(repoPath("conformance", "README.md"), "utf8");
  for (
    const file of ["map_session_storage_test.ts", "map_session_storage.ts"]
  ) {
    assert.ok(
      readme.includes("```ts\n// " + file + "\n" + shown(file) + "\n```"),
      `conformance/README.md must show examples/${file} as it is`,
    );
  }
});
