// `deno task bench`: runs every benchmark, prints the tables with the ratios
// against this module, writes bench/results.json and updates the results in
// BENCHMARKS.md. Takes about five minutes; the first run takes longer,
// because it writes 2 x 100,000 session files (kept in .tmp/bench/).
//
// Usage: deno run -A bench/run.ts [--only
//          peers,floors,sql,breakdown,bytes,cookies,deno,bun,node,heap,http]
//          [--no-write]
//        deno run -A bench/run.ts --rewrite
//
// --rewrite measures nothing: it writes BENCHMARKS.md and README.md anew
// from bench/results.json, after a change to how bench/report.ts words them.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { httpBench } from "./http.ts";
import { httpPeersBench } from "./http_peers.ts";
import type { HeapResult } from "./memory_heap.ts";
import {
  type GroupResult,
  markdown,
  PEER_ROUNDS,
  PEER_SECONDS,
  type Results,
  type RuntimeCookies,
  sqlMarkdown,
  targets,
  updateDocument,
  updateReadme,
} from "./report.ts";
import { BENCH_DIR } from "./_stores.ts";

const root = resolve(import.meta.dirname!, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const onlyAt = Deno.args.indexOf("--only");
const only = onlyAt === -1 ? undefined : Deno.args[onlyAt + 1].split(",");
const wanted = (part: string) => only === undefined || only.includes(part);
// A partial run would leave BENCHMARKS.md with holes: only a full run writes.
const write = only === undefined && !Deno.args.includes("--no-write");
mkdirSync(BENCH_DIR, { recursive: true });

function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(
    ", ",
  );
}

function run(command: string, args: string[], what: string): string {
  console.error(`bench: ${what} (load ${loadAverage()})`);
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...Deno.env.toObject(), NO_COLOR: "1" },
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) {
    console.error(result.stdout, result.stderr);
    throw new Error(`bench: ${what} failed (exit ${result.status})`);
  }
  return result.stdout;
}

function version(command: string): string {
  return spawnSync(command, ["--version"], { encoding: "utf8" }).stdout
    .trim().replace(/^v/, "");
}

function kindOf(name: string, baseline: boolean): string {
  return baseline ? "module" : name.startsWith("floor") ? "floor" : "peer";
}

interface DenoBenchJson {
  benches: {
    group: string;
    name: string;
    baseline: boolean;
    results: { ok?: { avg: number; p75: number } }[];
  }[];
}

function denoGroups(json: DenoBenchJson): GroupResult[] {
  const groups: GroupResult[] = [];
  for (const bench of json.benches) {
    const ok = bench.results[0]?.ok;
    if (!ok) throw new Error(`bench: "${bench.name}" failed under deno bench`);
    let group = groups.find((item) => item.name === bench.group);
    if (!group) groups.push(group = { name: bench.group, rows: [] });
    group.rows.push({
      name: bench.name,
      kind: kindOf(bench.name, bench.baseline),
      timeNs: ok.p75,
      avgNs: ok.avg,
    });
  }
  return groups;
}

interface MitataJson {
  results: {
    group: string;
    name: string;
    kind: string;
    avgNs: number;
    medianNs: number;
  }[];
}

function mitataGroups(json: MitataJson): GroupResult[] {
  const groups: GroupResult[] = [];
  for (const result of json.results) {
    let group = groups.find((item) => item.name === result.group);
    if (!group) groups.push(group = { name: result.group, rows: [] });
    group.rows.push({
      name: result.name,
      kind: result.kind,
      timeNs: result.medianNs,
      avgNs: result.avgNs,
    });
  }
  return groups;
}

function osName(): string {
  const release = readFileSync("/etc/os-release", "utf8");
  return /^PRETTY_NAME="?([^"\n]*)/m.exec(release)?.[1] ?? Deno.build.os;
}

const cpu = /model name\s*:\s*(.*)/.exec(
  readFileSync("/proc/cpuinfo", "utf8"),
)?.[1] ?? "unknown CPU";
const node26 = bin("node");
const git = (args: string[]) =>
  spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout?.trim() ?? "";
const changed = git(["status", "--porcelain", "--untracked-files=no"]);
if (Deno.args.includes("--rewrite")) {
  const saved = JSON.parse(
    readFileSync(join(root, "bench", "results.json"), "utf8"),
  );
  delete saved.targets;
  writeResults(saved as Results);
  Deno.exit(0);
}

const results: Results = {
  date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  commit: git(["rev-parse", "--short", "HEAD"]) +
    (changed ? " with uncommitted changes" : ""),
  machine: {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${osName()} (Linux ${Deno.osRelease()})`,
    loadBefore: loadAverage(),
    loadAfter: "",
  },
  runtimes: {
    deno: Deno.version.deno,
    bun: version(bin("bun")),
    node: version(node26),
  },
  deno: [],
};

/** Runs a Deno script of bench/ that writes its results to a JSON file. */
function denoJson<T>(script: string, flags: string[], what: string): T {
  const file = join(BENCH_DIR, `${script.replace(/\.ts$/, "")}.json`);
  run(bin("deno"), [
    "run",
    "-A",
    ...flags,
    `bench/${script}`,
    "--json",
    file,
  ], what);
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

// The whole-request comparisons first: they need the machine's two cores
// most, and the run's start is when its load was read.
if (wanted("peers")) {
  console.error(
    `bench: whole request against the peers (load ${loadAverage()})`,
  );
  results.peers = await httpPeersBench({
    seconds: PEER_SECONDS,
    rounds: PEER_ROUNDS,
  });
}
if (wanted("peers")) {
  const file = join(BENCH_DIR, "express_layer.json");
  run(node26, ["bench/express_layer.ts", "--json", file], "Express layer");
  results.expressLayer = JSON.parse(readFileSync(file, "utf8"));
  results.honoLayer = {};
  for (const runtime of ["deno", "bun"] as const) {
    const out = join(BENCH_DIR, `hono_layer-${runtime}.json`);
    run(
      bin(runtime),
      [
        ...(runtime === "deno" ? ["run", "-A"] : []),
        "bench/hono_layer.ts",
        "--json",
        out,
      ],
      `Hono layer on ${runtime}`,
    );
    results.honoLayer[runtime] = JSON.parse(readFileSync(out, "utf8"));
  }
}
if (wanted("floors")) {
  results.floors = denoJson(
    "store_floors.ts",
    ["--unstable-kv"],
    "stores against their floors",
  );
}
if (wanted("sql")) {
  results.sql = denoJson(
    "sql_stores.ts",
    [],
    "SQLite, PostgreSQL and Redis Cluster stores against their floors",
  );
}
if (wanted("breakdown")) {
  results.breakdown = denoJson("breakdown.ts", [], "session work by step");
}
if (wanted("bytes")) {
  results.bytes = denoJson(
    "session_bytes.ts",
    ["--unstable-kv", "--v8-flags=--expose-gc"],
    "bytes per session",
  );
}
if (wanted("cookies")) {
  results.cookies = [];
  const runtimes: [string, string, string[]][] = [
    ["deno", bin("deno"), ["run", "-A"]],
    ["bun", bin("bun"), []],
    ["node", node26, []],
  ];
  for (const [name, command, args] of runtimes) {
    const file = join(BENCH_DIR, `cookies-${name}.json`);
    run(command, [
      ...args,
      "bench/ci.ts",
      "--rounds",
      "41",
      "--json",
      file,
      "--report-only",
      "--cookies-only",
    ], `${name}: cookies in interleaved batches`);
    const measured = JSON.parse(readFileSync(file, "utf8")) as RuntimeCookies;
    results.cookies.push({
      ...measured,
      runtime: measured.runtime.split(" ")[0],
    });
  }
}
if (wanted("deno")) {
  const output = run(bin("deno"), [
    "bench",
    "-A",
    "--unstable-kv",
    "--json",
    "bench/cookie_bench.ts",
    "bench/storage_bench.ts",
  ], "deno bench: cookies and stores");
  results.deno = denoGroups(JSON.parse(output));
}
for (const runtime of ["bun", "node"] as const) {
  if (!wanted(runtime)) continue;
  const file = join(BENCH_DIR, `${runtime}.json`);
  run(
    runtime === "bun" ? bin("bun") : node26,
    ["bench/cookie_mitata.ts", "--json", file],
    `${runtime}: cookies with mitata`,
  );
  results[runtime] = mitataGroups(JSON.parse(readFileSync(file, "utf8")));
}
if (wanted("heap")) {
  const file = join(BENCH_DIR, "heap.json");
  run(bin("deno"), [
    "run",
    "-A",
    "--v8-flags=--expose-gc",
    "bench/memory_heap.ts",
    "--json",
    file,
  ], "memory store heap");
  results.heap = JSON.parse(readFileSync(file, "utf8")) as HeapResult[];
}
if (wanted("http")) {
  console.error(`bench: whole request with autocannon (load ${loadAverage()})`);
  results.http = await httpBench();
}
results.machine.loadAfter = loadAverage();

const text = markdown(results);
console.log(text);
if (results.sql) console.log(sqlMarkdown(results));
if (write) {
  writeResults(results);
}

function writeResults(results: Results): void {
  writeFileSync(
    join(root, "bench", "results.json"),
    JSON.stringify({ ...results, targets: targets(results) }, null, 2) + "\n",
  );
  const path = join(root, "BENCHMARKS.md");
  writeFileSync(path, updateDocument(readFileSync(path, "utf8"), results));
  const readme = join(root, "README.md");
  writeFileSync(readme, updateReadme(readFileSync(readme, "utf8"), results));
  // deno fmt --check runs over the whole repository.
  run(
    bin("deno"),
    ["fmt", path, readme, join(root, "bench", "results.json")],
    "fmt",
  );
  console.error("bench: wrote bench/results.json, BENCHMARKS.md, README.md");
}
