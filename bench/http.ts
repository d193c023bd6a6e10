// The whole-request benchmark: Deno.serve with a hello-world handler, bare
// and wrapped in withSession (cookie store, changing the session on every
// request or only reading it, then the fs and SQLite stores), driven over
// loopback by autocannon. Each server runs in its own process, so that the
// load generator and the server each have a core of the 2-core machine.
//
// Usage: deno run -A bench/http.ts [--seconds N] [--rounds N] [--json FILE]
//          [--modes bare,cookie,cookie-read,fs,sqlite,sqlite-floor] [--server FILE]
// --server runs another server script that takes the same arguments, for
// measuring a change side by side with the original.

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freshFolder } from "./_stores.ts";

const root = resolve(import.meta.dirname!, "..");
const deno = join(root, "node_modules", ".bin", "deno");
const node = join(root, "node_modules", ".bin", "node");
const autocannon = join(root, "node_modules", "autocannon", "autocannon.js");

/** What autocannon measured for one server. */
export interface HttpResult {
  mode: string;
  /** Mean requests per second over the measured interval. */
  requestsPerSecond: number;
  /**
   * CPU time the server process spent per request, in microseconds. Other
   * processes on a shared machine lower requests/s, but hardly this.
   */
  serverCpuUsPerRequest: number;
  /** Median latency in milliseconds. */
  latencyP50Ms: number;
  /** 99th percentile latency in milliseconds. */
  latencyP99Ms: number;
  requests: number;
}

/** The servers measured, in order; the first one is the baseline. */
export const MODES = [
  "bare",
  "cookie",
  "cookie-read",
  "fs",
  "sqlite",
  "sqlite-floor",
] as const;

/** User plus system CPU time of a process so far, in microseconds. */
function cpuTimeUs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name,
  // which is in parentheses and may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 1e6 / CLOCK_TICKS;
}

// Linux reports process CPU times in clock ticks of 1/100 s.
const CLOCK_TICKS = 100;

/**
 * Measures every server `rounds` times, interleaved, and keeps each one's
 * best round: load from other processes only lowers requests/s.
 */
export async function httpBench(
  {
    seconds = 8,
    rounds = 2,
    connections = 10,
    modes = MODES as readonly string[],
    server = join(root, "bench", "_http_server.ts"),
  } = {},
): Promise<HttpResult[]> {
  const best = new Map<string, HttpResult>();
  for (let round = 0; round < rounds; round++) {
    for (const mode of modes) {
      const result = await measure(server, mode, seconds, connections);
      const before = best.get(mode);
      best.set(mode, {
        ...(before && before.requestsPerSecond > result.requestsPerSecond
          ? before
          : result),
        serverCpuUsPerRequest: Math.min(
          result.serverCpuUsPerRequest,
          before?.serverCpuUsPerRequest ?? Infinity,
        ),
      });
    }
  }
  return modes.map((mode) => best.get(mode)!);
}

async function measure(
  script: string,
  mode: string,
  seconds: number,
  connections: number,
): Promise<HttpResult> {
  const folder = freshFolder("http-fs");
  return await measureServer(
    [deno, "run", "-A", script, mode, folder],
    mode,
    seconds,
    connections,
  );
}

/**
 * Starts the server `command` runs (it prints "listening <port>" and stops
 * when its stdin closes), gets a session cookie from it, warms it up, then
 * drives it with autocannon for `seconds`, every request carrying the cookie.
 * With `counts`, the server is a visit counter whose page ends with the
 * count, and a second visit must show 2.
 */
export async function measureServer(
  command: string[],
  mode: string,
  seconds: number,
  connections: number,
  counts = false,
): Promise<HttpResult> {
  const server = spawn(command[0], command.slice(1), {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => server.once("exit", resolve));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let output = "";
      server.stdout!.on("data", (chunk) => {
        output += chunk;
        const match = /listening (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      server.once(
        "exit",
        (code) =>
          reject(new Error(`bench/http: the ${mode} server exited (${code})`)),
      );
    });
    const url = `http://127.0.0.1:${port}/`;
    // Every request carries the session cookie of a returning visitor.
    const first = await fetch(url);
    await first.body?.cancel();
    const setCookie = first.headers.get("set-cookie");
    const headers = setCookie
      ? ["-H", `Cookie=${setCookie.split(";")[0]}`]
      : [];
    if (!mode.endsWith("bare") && !setCookie) {
      throw new Error(`bench/http: the ${mode} server set no cookie`);
    }
    if (counts) {
      // The session must survive the round trip: the second visit counts 2.
      const second = await fetch(url, {
        headers: { Cookie: setCookie!.split(";")[0] },
      });
      const text = await second.text();
      if (!text.endsWith(" 2")) {
        throw new Error(
          `bench/http: the ${mode} server lost the session (${text})`,
        );
      }
    }
    // Warm up the JIT, then measure.
    await autocannonRun(url, headers, 2, connections);
    const cpuBefore = cpuTimeUs(server.pid!);
    const report = await autocannonRun(url, headers, seconds, connections);
    const cpuUs = cpuTimeUs(server.pid!) - cpuBefore;
    if (report.errors > 0 || report.non2xx > 0) {
      throw new Error(
        `bench/http: ${report.errors} errors and ${report.non2xx} non-2xx ` +
          `responses from the ${mode} server`,
      );
    }
    return {
      mode,
      requestsPerSecond: report.requests.average,
      serverCpuUsPerRequest: cpuUs / report.requests.total,
      latencyP50Ms: report.latency.p50,
      latencyP99Ms: report.latency.p99,
      requests: report.requests.total,
    };
  } finally {
    server.stdin!.end();
    const timer = setTimeout(() => server.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

interface AutocannonReport {
  errors: number;
  non2xx: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
}

function autocannonRun(
  url: string,
  headers: string[],
  seconds: number,
  connections: number,
): Promise<AutocannonReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [
      autocannon,
      "--json",
      "--no-progress",
      "-c",
      String(connections),
      "-d",
      String(seconds),
      ...headers,
      url,
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let errors = "";
    child.stdout.on("data", (chunk) => output += chunk);
    child.stderr.on("data", (chunk) => errors += chunk);
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code !== 0) {
        reject(
          new Error(`bench/http: autocannon failed (${code}):\n${errors}`),
        );
      } else resolve(JSON.parse(output));
    });
  });
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const at = Deno.args.indexOf(name);
    return at === -1 ? fallback : Number(Deno.args[at + 1]);
  };
  const text = (name: string) => {
    const at = Deno.args.indexOf(name);
    return at === -1 ? undefined : Deno.args[at + 1];
  };
  const results = await httpBench({
    seconds: arg("--seconds", 8),
    rounds: arg("--rounds", 2),
    modes: text("--modes")?.split(","),
    server: text("--server") && resolve(text("--server")!),
  });
  const bare = results[0].requestsPerSecond;
  const bareCpu = results[0].serverCpuUsPerRequest;
  for (const result of results) {
    console.log(
      `${result.mode.padEnd(7)} ${
        Math.round(result.requestsPerSecond).toString().padStart(7)
      } requests/s  ${(result.requestsPerSecond / bare * 100).toFixed(0)}% ` +
        `of bare  server CPU ${result.serverCpuUsPerRequest.toFixed(1)} µs ` +
        `per request (${
          (bareCpu / result.serverCpuUsPerRequest * 100).toFixed(0)
        }% of bare's rate)  p50 ${result.latencyP50Ms} ms  p99 ${result.latencyP99Ms} ms`,
    );
  }
  const jsonAt = Deno.args.indexOf("--json");
  if (jsonAt !== -1) {
    writeFileSync(Deno.args[jsonAt + 1], JSON.stringify(results, null, 2));
  }
}
