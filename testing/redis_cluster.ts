// Test helper: starts a throwaway Redis Cluster on loopback ports, 3 masters
// and optionally a replica for each, persistence off, in temporary folders it
// removes when stopped. Not part of the public API.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { freePort } from "./free_port.ts";
import { answersPing } from "./redis_server.ts";
import { cleanUpAfterExit } from "./watchdog.ts";

const run = promisify(execFile);

/** One redis-server of the cluster. */
export interface ClusterNode {
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Sends `signal` to the process: SIGKILL to crash it, SIGSTOP to freeze it. */
  signal(signal: "SIGKILL" | "SIGSTOP" | "SIGCONT"): void;
  /** Whether it was sent SIGKILL. */
  killed: boolean;
  /**
   * Whether it was sent SIGSTOP and no SIGCONT since: a frozen node takes
   * connections but answers nothing, so send it no command.
   */
  frozen: boolean;
  /** Runs one command through redis-cli and resolves to its output. */
  command(...args: string[]): Promise<string>;
}

/** A running Redis Cluster that the tests own. */
export interface RedisCluster {
  /** Every node: the masters first, then their replicas. */
  nodes: ClusterNode[];
  /** `{ url }` of each node, for node-redis's `createCluster({ rootNodes })`. */
  rootNodes: { url: string }[];
  /**
   * Resolves once every node not killed reports `cluster_state:ok`, and
   * every replica is in sync with its master.
   */
  waitUntilHealthy(): Promise<void>;
  /** Stops every node and removes their folders. */
  stop(): Promise<void>;
}

const REDIS_SERVER = "/usr/bin/redis-server";
const REDIS_CLI = "/usr/bin/redis-cli";
const MASTERS = 3;
// Redis Cluster talks between nodes on the port plus 10000, which must be
// free too: ports are drawn from a range where both fit.
const BUS_OFFSET = 10_000;
const PORT_RANGE = { from: 20_000, to: 30_000 };
const PORT_ATTEMPTS = 200;
const READY_POLLS = 400;
const POLL_INTERVAL_MS = 50;
/** Milliseconds of silence after which the cluster fails a node over. */
export const NODE_TIMEOUT_MS = 1000;

/**
 * Starts 3 masters, and `replicas` replicas of each, joins them into one
 * cluster with `redis-cli --cluster create`, and resolves once the cluster
 * serves every slot.
 */
export async function startRedisCluster(
  { replicas = 0 }: { replicas?: 0 | 1 } = {},
): Promise<RedisCluster> {
  const folder = mkdtempSync(join(tmpdir(), "x-session-redis-cluster-"));
  const children: { child: ChildProcess; exited: Promise<void> }[] = [];
  const nodes: ClusterNode[] = [];
  let callOff = () => {};
  const stop = async () => {
    callOff();
    for (const { child, exited } of children) {
      if (child.exitCode === null && child.signalCode === null) {
        // A frozen node must wake to die.
        signal(child, "SIGCONT");
        signal(child, "SIGKILL");
      }
      await exited;
    }
    rmSync(folder, { recursive: true, force: true });
  };
  try {
    const ports = await portsFor(MASTERS * (1 + replicas));
    for (const port of ports) {
      const child = spawn(REDIS_SERVER, [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        folder,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        `nodes-${port}.conf`,
        "--cluster-node-timeout",
        String(NODE_TIMEOUT_MS),
        // A replica may take over however far behind it is: the failover
        // tests freeze one to show what it then lacks.
        "--cluster-replica-validity-factor",
        "0",
        "--save",
        "",
        "--appendonly",
        "no",
      ], { stdio: "ignore" });
      const exited = new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.once("error", () => resolve());
      });
      children.push({ child, exited });
      const node: ClusterNode = {
        port,
        url: `redis://127.0.0.1:${port}`,
        killed: false,
        frozen: false,
        signal(name) {
          if (name === "SIGKILL") node.killed = true;
          node.frozen = name === "SIGSTOP";
          signal(child, name);
        },
        command: (...args) => cli(port, args),
      };
      nodes.push(node);
    }
    // A test run that dies before `stop` must not leave servers behind.
    callOff = cleanUpAfterExit([
      ...children.flatMap(({ child }) => [
        // A frozen node must wake to die.
        ["kill", "-CONT", String(child.pid)],
        ["kill", "-9", String(child.pid)],
      ]),
      ["rm", "-rf", folder],
    ]);
    for (const node of nodes) await until(() => answersPing(node.port));
    await run(REDIS_CLI, [
      "--cluster",
      "create",
      ...ports.map((port) => `127.0.0.1:${port}`),
      "--cluster-replicas",
      String(replicas),
      "--cluster-yes",
    ]);
    const cluster: RedisCluster = {
      nodes,
      rootNodes: nodes.map(({ url }) => ({ url })),
      async waitUntilHealthy() {
        for (const node of nodes.filter((node) => !node.killed)) {
          await until(async () =>
            (await node.command("CLUSTER", "INFO")).includes(
              "cluster_state:ok",
            )
          );
          const replication = await node.command("INFO", "replication");
          if (replication.includes("role:slave")) {
            await until(async () =>
              (await node.command("INFO", "replication")).includes(
                "master_link_status:up",
              )
            );
          }
        }
      },
      stop,
    };
    await cluster.waitUntilHealthy();
    return cluster;
  } catch (error) {
    await stop();
    throw new Error(
      `Could not start a Redis Cluster with ${REDIS_SERVER}; install it ` +
        "with `apt-get install redis-server redis-tools`.",
      { cause: error },
    );
  }
}

// process.kill, not child.kill: Deno's child.kill sends nothing once it has
// sent a signal, and a node may get SIGSTOP, SIGCONT, then SIGKILL.
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  if (child.signalCode !== null) return;
  try {
    process.kill(child.pid, name);
  } catch {
    // It has exited in the meantime.
  }
}

// A command that gets no answer (a frozen node) fails after this long
// instead of holding the test up; the longest command, WAIT, takes 5 s.
const COMMAND_TIMEOUT_MS = 15_000;

async function cli(port: number, args: string[]): Promise<string> {
  const { stdout } = await run(REDIS_CLI, ["-p", String(port), ...args], {
    timeout: COMMAND_TIMEOUT_MS,
  });
  return stdout;
}

async function until(ready: () => Promise<boolean>): Promise<void> {
  for (let poll = 0; poll < READY_POLLS; poll++) {
    if (await ready().catch(() => false)) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error("The Redis Cluster did not become ready in time.");
}

// `count` ports whose cluster bus ports are free too.
async function portsFor(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = PORT_RANGE.from +
      Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (ports.includes(port)) continue;
    if (
      await freePort(port) === port &&
      await freePort(port + BUS_OFFSET) === port + BUS_OFFSET
    ) {
      ports.push(port);
      if (ports.length === count) return ports;
    }
  }
  throw new Error(`Found no ${count} free port pairs on 127.0.0.1.`);
}
