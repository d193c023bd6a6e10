// Test helper: starts a throwaway redis-server on a free loopback port with
// persistence off, for the tests of the Redis store. Not part of the public
// API.

import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./free_port.ts";
import { cleanUpAfterExit } from "./watchdog.ts";

/** A running redis-server that the tests own. */
export interface RedisServer {
  /** The loopback port it listens on. */
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Stops the server and waits until its process has exited. */
  stop(): Promise<void>;
}

const REDIS_SERVER = "/usr/bin/redis-server";
const START_ATTEMPTS = 5;
const READY_POLLS = 200;
const POLL_INTERVAL_MS = 50;

/**
 * Starts redis-server on a free port of 127.0.0.1 and resolves once it
 * answers PING. Retries on another port when the chosen one was taken in the
 * meantime; given `port` (to restart a server where its clients look for
 * it), retries on that port only.
 */
export async function startRedisServer(
  { port: wanted = 0 }: { port?: number } = {},
): Promise<RedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort(wanted);
    if (port === undefined) {
      await sleep(POLL_INTERVAL_MS);
      continue;
    }
    const child = spawn(REDIS_SERVER, [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--protected-mode",
      "yes",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout?.on("data", (chunk) => output += chunk);
    child.stderr?.on("data", (chunk) => output += chunk);
    const exited = new Promise<void>((resolve) => child.once("exit", resolve));
    let spawnError: unknown;
    child.once("error", (error) => spawnError = error);
    for (let poll = 0; poll < READY_POLLS; poll++) {
      if (spawnError !== undefined || child.exitCode !== null) break;
      if (await answersPing(port)) {
        // A test run that dies before `stop` must not leave a server behind.
        const callOff = cleanUpAfterExit([["kill", "-9", String(child.pid)]]);
        return {
          port,
          url: `redis://127.0.0.1:${port}`,
          stop: () => {
            callOff();
            return stop(child, exited);
          },
        };
      }
      await sleep(POLL_INTERVAL_MS);
    }
    await stop(child, exited);
    lastError = spawnError ??
      new Error(`redis-server did not start on port ${port}:\n${output}`);
  }
  throw new Error(
    `Could not start ${REDIS_SERVER}; install it with ` +
      "`apt-get install redis-server`.",
    { cause: lastError },
  );
}

async function stop(child: ChildProcess, exited: Promise<void>) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    await exited;
  }
}

/** Whether a Redis server on `port` of 127.0.0.1 answers PING. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk;
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}
