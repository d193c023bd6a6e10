// Turns the measurements of one `deno task bench` run into the Markdown of
// BENCHMARKS.md: a table per group with the ratios against this module, the
// whole-request and heap figures, and the issue's targets, met or missed.

import { formatNs, formatRate, type Timing } from "./_measure.ts";
import type { HttpResult } from "./http.ts";
import type { HeapResult } from "./memory_heap.ts";

/** One row of a group: a case and its time per call. */
export interface Row {
  name: string;
  kind: string;
  /** The time per call the ratios use, in ns: p75 for Deno, p50 for mitata. */
  timeNs: number;
  /** The mean time per call in ns. */
  avgNs: number;
}

/** A group of rows compared against the module's row. */
export interface GroupResult {
  name: string;
  rows: Row[];
}

/** Everything one run measured. */
export interface Results {
  date: string;
  /** The commit measured. */
  commit: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    os: string;
    loadBefore: string;
    loadAfter: string;
  };
  runtimes: Record<string, string>;
  /** Deno's groups, from `deno bench --json`. */
  deno: GroupResult[];
  /** The cookie groups under Bun and Node, from mitata. */
  bun?: GroupResult[];
  node?: GroupResult[];
  http?: HttpResult[];
  heap?: HeapResult[];
  /**
   * The cookie groups on each runtime, from bench/ci.ts: interleaved
   * batches, the fastest batch of each case.
   */
  cookies?: RuntimeCookies[];
}

/** What bench/ci.ts measured on one runtime. */
export interface RuntimeCookies {
  runtime: string;
  groups: { group: string; timings: Timing[] }[];
}

/** A target of the issue and whether the run met it. */
export interface Target {
  target: string;
  measured: string;
  met: boolean;
}

const MODULE = "@x/session";

/** How many times faster the module's row is than `row`. */
function speedUp(group: GroupResult, row: Row): number {
  const ours = group.rows.find((item) => item.kind === "module");
  return ours ? row.timeNs / ours.timeNs : NaN;
}

/** Checks the issue's targets against the results. */
export function targets(results: Results): Target[] {
  const out: Target[] = [];
  for (const { runtime, groups } of results.cookies ?? []) {
    const ratio = (group: string, row: string) => {
      const timings = groups.find((item) => item.group === group)?.timings;
      const ours = timings?.find((timing) => timing.kind === "module");
      const other = timings?.find((timing) => timing.name === row);
      return ours && other ? other.minNs / ours.minNs : NaN;
    };
    for (const group of ["sign + serialize", "parse + verify"]) {
      const remix = ratio(group, "@remix-run/cookie");
      out.push({
        target: `${runtime}, ${group}: at least 10x @remix-run/cookie`,
        measured: `${remix.toFixed(1)}x`,
        met: remix >= 10,
      });
      const floor = 1 / ratio(group, "floor: node:crypto createHmac");
      out.push({
        target:
          `${runtime}, ${group}: at most 1.5x the time of the node:crypto HMAC floor`,
        measured: `${floor.toFixed(2)}x`,
        met: floor <= 1.5,
      });
    }
    for (
      const [group, row] of [
        ["encrypted: encrypt + serialize", "iron-session sealData"],
        ["encrypted: parse + decrypt", "iron-session unsealData"],
      ]
    ) {
      const iron = ratio(group, row);
      out.push({
        target: `${runtime}, ${group}: at least 5x iron-session`,
        measured: `${iron.toFixed(1)}x`,
        met: iron >= 5,
      });
    }
  }
  for (const group of results.deno) {
    const remix = group.rows.find((row) => row.name.startsWith("@remix-run"));
    if (!group.name.includes("store") || remix === undefined) continue;
    const value = speedUp(group, remix);
    out.push({
      target: `${group.name}: at least as fast as @remix-run/session`,
      measured: `${value.toFixed(2)}x`,
      met: value >= 1,
    });
  }
  if (results.http) {
    const bare = results.http.find((result) => result.mode === "bare")!;
    const cookie = results.http.find((result) => result.mode === "cookie")!;
    const share = cookie.requestsPerSecond / bare.requestsPerSecond;
    const cpuShare = bare.serverCpuUsPerRequest / cookie.serverCpuUsPerRequest;
    out.push({
      target: "whole request, cookie store: at least 80% of the bare handler",
      measured: `${(share * 100).toFixed(0)}% of requests/s (${
        (cpuShare * 100).toFixed(0)
      }% by server CPU per request)`,
      met: share >= 0.8,
    });
  }
  return out;
}

function groupTable(group: GroupResult, timeLabel: string): string[] {
  const lines = [
    `| ${group.name} | ${timeLabel} | mean | calls/s | ${MODULE} is |`,
    "| :-- | --: | --: | --: | --: |",
  ];
  for (const row of group.rows) {
    const ratio = speedUp(group, row);
    const verdict = row.kind === "module"
      ? "baseline"
      : ratio >= 1
      ? `**${ratio.toFixed(2)}x faster**`
      : `${(1 / ratio).toFixed(2)}x slower`;
    const name = row.kind === "module" ? `**${row.name}**` : row.name;
    lines.push(
      `| ${name} | ${formatNs(row.timeNs)} | ${formatNs(row.avgNs)} | ` +
        `${formatRate(row.timeNs)} | ${verdict} |`,
    );
  }
  return lines;
}

/** The Markdown that goes between the markers of BENCHMARKS.md. */
export function markdown(results: Results): string {
  const { machine, runtimes } = results;
  const out: string[] = [
    `Measured ${results.date}, commit ${results.commit}, on ${machine.cpu}, ${machine.cores} cores, ` +
    `${machine.memoryGiB} GiB, ${machine.os}; ` +
    Object.entries(runtimes).map(([name, version]) => `${name} ${version}`)
      .join(", ") +
    ".",
    "",
    `Load average (1, 5, 15 min) before the run: ${machine.loadBefore}; ` +
    `after: ${machine.loadAfter}. The machine is shared, so the ratios ` +
    "matter, not the absolute times.",
    "",
    "### Targets",
    "",
    "| target | measured | met |",
    "| :-- | --: | :-: |",
    ...targets(results).map(({ target, measured, met }) =>
      `| ${target} | ${measured} | ${met ? "yes" : "**no**"} |`
    ),
    "",
    ...runtimeTables(results.cookies),
    "### Deno: cookies and stores (`deno bench`)",
    "",
    "The cookie groups again, and the stores, as `deno bench` measures " +
    "them.",
    "",
    "Time per call is the 75th percentile of `deno bench`'s samples, which " +
    "the other processes on the machine disturb less than the mean; the " +
    "ratios use it.",
    "",
  ];
  for (const group of results.deno) {
    out.push(...groupTable(group, "p75/call"), "");
  }
  const mitata: [string, GroupResult[] | undefined][] = [
    ["Bun", results.bun],
    ["Node", results.node],
  ];
  for (const [name, groups] of mitata) {
    if (!groups) continue;
    out.push(
      `### ${name} ${runtimes[name.toLowerCase()]}: cookies (mitata)`,
      "",
      "The same cases with mitata; time per call is mitata's median, " +
        "which swings by up to 2x from run to run on this shared machine.",
      "",
    );
    for (const group of groups) out.push(...groupTable(group, "p50/call"), "");
  }
  if (results.http) {
    const bare = results.http[0].requestsPerSecond;
    out.push(
      "### Deno: whole request (`Deno.serve`, autocannon over loopback)",
      "",
      "A hello-world handler, bare and wrapped in `withSession`. With the " +
        "visit counter every request verifies the cookie, reads the session, " +
        "changes it, saves it and signs a new cookie; when the session is " +
        "only read, no cookie is sent back. The best of the rounds. " +
        "Server CPU is the user + system time of the server process per " +
        "request; on a shared machine it is the steadier measure of what the " +
        "server would do on a core of its own.",
      "",
      "| server | requests/s | of bare | server CPU/request | of bare's rate by CPU | p50 latency | p99 latency |",
      "| :-- | --: | --: | --: | --: | --: | --: |",
    );
    const bareCpu = results.http[0].serverCpuUsPerRequest;
    const labels: Record<string, string> = {
      bare: "bare `Deno.serve`",
      cookie: "`withSession`, cookie store, visit counter",
      "cookie-read": "`withSession`, cookie store, session only read",
      fs: "`withSession`, fs store, visit counter",
    };
    for (const result of results.http) {
      out.push(
        `| ${labels[result.mode] ?? result.mode} | ` +
          `${Math.round(result.requestsPerSecond).toLocaleString("en-US")} | ` +
          `${(result.requestsPerSecond / bare * 100).toFixed(0)}% | ` +
          `${result.serverCpuUsPerRequest.toFixed(1)} µs | ` +
          `${(bareCpu / result.serverCpuUsPerRequest * 100).toFixed(0)}% | ` +
          `${result.latencyP50Ms} ms | ${result.latencyP99Ms} ms |`,
      );
    }
    out.push("");
  }
  if (results.heap) {
    out.push(
      "### Memory store: heap per 100,000 sessions",
      "",
      "| store | heap |",
      "| :-- | --: |",
      ...results.heap.map(({ name, bytes }) =>
        `| ${name} | ${(bytes / 1024 / 1024).toFixed(1)} MiB |`
      ),
      "",
    );
  }
  return out.join("\n").trimEnd() + "\n";
}

function runtimeTables(cookies: RuntimeCookies[] | undefined): string[] {
  if (!cookies?.length) return [];
  const out = [
    "### Cookies on Deno, Bun and Node",
    "",
    "`bench/ci.ts` with 41 rounds on each runtime: the cases of a group run " +
    "in interleaved batches of about 4 ms, and the fastest batch stands for " +
    "each case, the figure that load from other processes disturbs least. " +
    "Each cell gives the time per call and how many times faster " +
    `${MODULE} is (below 1: slower).`,
    "",
  ];
  const first = cookies[0];
  for (const { group, timings } of first.groups) {
    out.push(
      `| ${group} | ${cookies.map(({ runtime }) => runtime).join(" | ")} |`,
      `| :-- |${" --: |".repeat(cookies.length)}`,
    );
    for (const { name, kind } of timings) {
      const cells = cookies.map(({ groups }) => {
        const found = groups.find((item) => item.group === group)?.timings;
        const ours = found?.find((timing) => timing.kind === "module");
        const timing = found?.find((item) => item.name === name);
        if (!ours || !timing) return "";
        const ratio = timing.minNs / ours.minNs;
        return `${formatNs(timing.minNs)} (${
          kind === "module" ? "baseline" : `${ratio.toFixed(2)}x`
        })`;
      });
      const label = kind === "module" ? `**${name}**` : name;
      out.push(`| ${label} | ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return out;
}

/** The markers in BENCHMARKS.md between which the results go. */
export const START = "<!-- bench:results:start -->";
export const END = "<!-- bench:results:end -->";

/** Replaces the results between the markers of `document`. */
export function updateDocument(document: string, results: Results): string {
  const start = document.indexOf(START);
  const end = document.indexOf(END);
  if (start === -1 || end < start) {
    throw new Error(
      `bench/report: BENCHMARKS.md has no "${START}" ... "${END}" markers; ` +
        "add them where the results belong.",
    );
  }
  return document.slice(0, start + START.length) + "\n\n" +
    markdown(results) + "\n" + document.slice(end);
}
