// The whole request against the stacks people run: each pair is the same
// visit counter on the same framework and runtime with the same kind of
// store, once behind the peer's session middleware and once behind this
// module's, driven over loopback by autocannon (bench/http.ts). The two
// servers of a pair are measured in alternation, `rounds` times each, and
// each keeps its best round: load from other processes only lowers
// requests/s.
//
// Usage: deno run -A bench/http_peers.ts [--seconds N] [--rounds N]
//          [--pairs express,hono-deno,hono-bun,remix] [--json FILE]

import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type HttpResult, measureServer } from "./http.ts";

const root = resolve(import.meta.dirname!, "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const SERVER = "bench/_peer_server.ts";

/** One pair: the peer's server and this module's, on one runtime. */
export interface Pair {
  id: string;
  /** What the pair runs on, for the table. */
  stack: string;
  runtime: string;
  store: string;
  peer: { name: string; mode: string };
  ours: { name: string; mode: string };
  /** The same page without a session, for scale. */
  bare: { name: string; mode: string };
}

function honoPair(runtime: string): Pair {
  return {
    id: `hono-${runtime}`,
    stack: "Hono 4.13",
    runtime,
    store: "encrypted cookie",
    peer: { name: "@hono/session 0.2.1", mode: "hono-session" },
    ours: {
      name: "@x/session/hono, cookie store, encrypted cookie",
      mode: "hono-ours",
    },
    bare: { name: "no session", mode: "hono-bare" },
  };
}

/** The pairs measured, in order. */
export const PAIRS: Pair[] = [
  {
    id: "express",
    stack: "Express 5.3",
    runtime: "node",
    store: "memory",
    peer: {
      name: "express-session 1.19 (MemoryStore)",
      mode: "express-session",
    },
    ours: { name: "@x/session/express, memory store", mode: "express-ours" },
    bare: { name: "no session", mode: "express-bare" },
  },
  honoPair("deno"),
  honoPair("bun"),
  {
    id: "remix",
    stack: "Deno.serve",
    runtime: "deno",
    store: "memory",
    peer: {
      name:
        "@remix-run/fetch-router 0.20.1 + session-middleware 0.2.2 (memory storage)",
      mode: "remix",
    },
    ours: { name: "withSession, memory store", mode: "remix-ours" },
    bare: { name: "no session, no router", mode: "fetch-bare" },
  },
];

/** What one pair measured. */
export interface PairResult {
  pair: Pair;
  peer: HttpResult;
  ours: HttpResult;
  bare: HttpResult;
}

type Side = "peer" | "ours" | "bare";
const SIDES: Side[] = ["peer", "ours", "bare"];

function command(runtime: string, mode: string): string[] {
  if (runtime === "deno") return [bin("deno"), "run", "-A", SERVER, mode];
  return [bin(runtime), SERVER, mode];
}

function better(before: HttpResult | undefined, now: HttpResult): HttpResult {
  if (before === undefined) return now;
  return {
    ...(before.requestsPerSecond > now.requestsPerSecond ? before : now),
    serverCpuUsPerRequest: Math.min(
      before.serverCpuUsPerRequest,
      now.serverCpuUsPerRequest,
    ),
  };
}

/** Measures every pair: its two servers in alternation, `rounds` times. */
export async function httpPeersBench(
  {
    seconds = 5,
    rounds = 2,
    connections = 10,
    pairs = PAIRS.map((pair) => pair.id),
  }: {
    seconds?: number;
    rounds?: number;
    connections?: number;
    pairs?: string[];
  } = {},
): Promise<PairResult[]> {
  const results: PairResult[] = [];
  for (const pair of PAIRS.filter((item) => pairs.includes(item.id))) {
    const best: Partial<Record<Side, HttpResult>> = {};
    for (let round = 0; round < rounds; round++) {
      // Rotate which side goes first.
      for (let i = 0; i < SIDES.length; i++) {
        const side = SIDES[(i + round) % SIDES.length];
        const { mode } = pair[side];
        const result = await measureServer(
          command(pair.runtime, mode),
          mode,
          seconds,
          connections,
          side !== "bare",
        );
        best[side] = better(best[side], result);
      }
    }
    results.push({
      pair,
      peer: best.peer!,
      ours: best.ours!,
      bare: best.bare!,
    });
  }
  return results;
}

if (import.meta.main) {
  const at = (name: string) => Deno.args.indexOf(name);
  const value = (name: string) =>
    at(name) === -1 ? undefined : Deno.args[at(name) + 1];
  const results = await httpPeersBench({
    seconds: Number(value("--seconds") ?? 5),
    rounds: Number(value("--rounds") ?? 2),
    pairs: value("--pairs")?.split(","),
  });
  for (const { pair, peer, ours, bare } of results) {
    console.log(
      `${pair.id}: bare ${Math.round(bare.requestsPerSecond)}/s ` +
        `${
          bare.serverCpuUsPerRequest.toFixed(1)
        } µs CPU p99 ${bare.latencyP99Ms} ms`,
    );
    console.log(
      `${pair.id}: ${pair.ours.mode} ${Math.round(ours.requestsPerSecond)}/s ` +
        `${
          ours.serverCpuUsPerRequest.toFixed(1)
        } µs CPU p99 ${ours.latencyP99Ms} ms; ` +
        `${pair.peer.mode} ${Math.round(peer.requestsPerSecond)}/s ` +
        `${
          peer.serverCpuUsPerRequest.toFixed(1)
        } µs CPU p99 ${peer.latencyP99Ms} ms; ` +
        `${(ours.requestsPerSecond / peer.requestsPerSecond).toFixed(2)}x ` +
        `requests/s, ${
          (peer.serverCpuUsPerRequest / ours.serverCpuUsPerRequest).toFixed(2)
        }x by CPU`,
    );
  }
  if (value("--json") !== undefined) {
    writeFileSync(value("--json")!, JSON.stringify(results, null, 2));
  }
}
