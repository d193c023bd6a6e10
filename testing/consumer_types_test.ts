// check: runtimes node26
// Every export type-checks as a consumer sees it, from a scratch project
// outside this repository: `deno check` with no config (Deno's built-in Node
// types, not the @types/node this repository pins), and `tsc` over the
// emitted declarations with each @types/node major a Node 20+ project may
// have installed.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoPath } from "./repo_root.ts";

// The package names node_modules holds each @types/node major under.
const NODE_TYPES: Record<string, string> = {
  "@types/node 20": "types-node-20",
  "@types/node 22": "types-node-22",
  "@types/node 24": "types-node-24",
  "@types/node 26": join("@types", "node"),
};

const exported: string[] = Object.values(
  JSON.parse(readFileSync(repoPath("deno.json"), "utf8")).exports,
).map((path) => (path as string).replace(/^\.\//, ""));

let work: string;

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

/** A module that imports every export, from `prefix` + each module's path. */
function consumer(toSpecifier: (path: string) => string): string {
  const lines = exported.map((path, index) =>
    `import * as module${index} from ${JSON.stringify(toSpecifier(path))};`
  );
  const names = exported.map((_, index) => `module${index}`).join(", ");
  return `${lines.join("\n")}\nexport const modules = [${names}];\n`;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "consumer-types-"));
  writeFileSync(
    join(work, "tsconfig.emit.json"),
    JSON.stringify({
      extends: repoPath("tsconfig.json"),
      compilerOptions: {
        declaration: true,
        emitDeclarationOnly: true,
        outDir: join(work, "types"),
        rootDir: repoPath(),
        typeRoots: [repoPath("node_modules", "@types")],
      },
      files: exported.map((path) => repoPath(path)),
      include: [],
    }),
  );
  const emitted = run(
    repoPath("node_modules", ".bin", "tsc"),
    ["-p", "tsconfig.emit.json"],
    work,
  );
  assert.equal(emitted.status, 0, `tsc could not emit:\n${emitted.output}`);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe("consumer type check", () => {
  it("consumer types: deno check with no config passes on every export", () => {
    const project = join(work, "deno");
    mkdirSync(project);
    writeFileSync(
      join(project, "consumer.ts"),
      consumer((path) => repoPath(path)),
    );
    const checked = run(
      repoPath("node_modules", ".bin", "deno"),
      ["check", "--no-config", "consumer.ts"],
      project,
    );
    assert.equal(checked.status, 0, checked.output);
  });

  for (const [label, packageName] of Object.entries(NODE_TYPES)) {
    it(`consumer types: tsc over the declarations passes with ${label}`, () => {
      const project = join(work, packageName.replace(/\W/g, "-"));
      mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
      symlinkSync(
        repoPath("node_modules", packageName),
        join(project, "node_modules", "@types", "node"),
      );
      writeFileSync(
        join(project, "consumer.ts"),
        consumer((path) => `../types/${path.replace(/\.ts$/, ".js")}`),
      );
      // A Node project: no DOM library, Node's own globals, and the
      // declarations checked too (skipLibCheck off).
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "es2022",
            module: "nodenext",
            moduleResolution: "nodenext",
            lib: ["es2022"],
            types: ["node"],
            strict: true,
            noEmit: true,
            skipLibCheck: false,
          },
          files: ["consumer.ts"],
        }),
      );
      const checked = run(
        repoPath("node_modules", ".bin", "tsc"),
        ["-p", "tsconfig.json"],
        project,
      );
      assert.equal(checked.status, 0, checked.output);
    });
  }
});
