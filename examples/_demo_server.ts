// Test helper: starts the demo (demo.ts) as a child process under Deno, Bun
// or Node 26, waits for the URL it prints, and stops it. Shared by the smoke
// test and the browser test.

import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const demo = fileURLToPath(new URL("./demo.ts", import.meta.url));

/** The command line that runs the demo under each runtime. */
export const RUNTIMES = {
  deno: [bin("deno"), "run", "-A", demo],
  bun: [bin("bun"), demo],
  // node_modules/.bin/node is Node 26, which runs TypeScript as it is.
  node: [bin("node"), demo],
} as const;

/** A runtime the demo runs under. */
export type Runtime = keyof typeof RUNTIMES;

/** A running demo. */
export interface DemoServer {
  /** The URL the demo printed, ending in `/`. */
  url: string;
  /** The demo's process id, to read its memory from /proc. */
  pid: number;
  /** What the demo wrote to stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** Stops the demo and resolves once it has exited. */
  stop(): Promise<void>;
}

// Variables of the test's own environment that would change the demo.
const DEMO_VARIABLES = [
  "PORT",
  "HOST",
  "NODE_ENV",
  "SESSION_SECRET",
  "SESSION_STORE",
  "SESSION_DIR",
  "SESSION_DB",
];

function spawnDemo(runtime: Runtime, env: Record<string, string>) {
  const [command, ...args] = RUNTIMES[runtime];
  const base: Record<string, string | undefined> = { ...process.env };
  for (const name of DEMO_VARIABLES) delete base[name];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...base, NO_COLOR: "1", PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (s) => output.stdout += s);
  child.stderr!.setEncoding("utf8").on("data", (s) => output.stderr += s);
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ? null : code));
    child.once("error", () => resolve(null));
  });
  return { child, output, exited };
}

/**
 * Waits for `promise` for at most `ms` milliseconds; `undefined` when the
 * time ran out.
 */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function kill(child: ChildProcess, exited: Promise<unknown>) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (await within(exited.then(() => true), 10_000)) return;
  child.kill("SIGKILL");
  await within(exited, 10_000);
}

/**
 * Starts the demo on a free loopback port and resolves once it prints its
 * URL. Rejects, with the demo's output, when it exits first or prints no URL
 * within `timeoutMs`.
 */
export async function startDemo(
  runtime: Runtime,
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<DemoServer> {
  const { child, output, exited } = spawnDemo(runtime, env);
  const stop = () => kill(child, exited);
  const url = await within(
    new Promise<string | undefined>((resolve) => {
      const check = () => {
        const match = output.stdout.match(/http:\/\/127\.0\.0\.1:\d+\//);
        if (match) resolve(match[0]);
      };
      child.stdout!.on("data", check);
      exited.then(() => resolve(undefined));
      check();
    }),
    timeoutMs,
  );
  if (url === undefined) {
    const running = child.exitCode === null && child.signalCode === null;
    await stop();
    throw new Error(
      `The demo under ${runtime} ` +
        (running
          ? `printed no URL within ${timeoutMs} ms.\n`
          : "exited before it printed a URL.\n") +
        `stdout: ${output.stdout}\nstderr: ${output.stderr}`,
    );
  }
  return { url, pid: child.pid!, output: () => ({ ...output }), stop };
}

/**
 * Runs the demo until it exits by itself, for at most `timeoutMs`, and
 * resolves to its exit code (`null` when it had to be killed) and output.
 */
export async function runDemoToExit(
  runtime: Runtime,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, output, exited } = spawnDemo(runtime, env);
  const code = await within(exited, timeoutMs);
  if (code === undefined) await kill(child, exited);
  return { code: code ?? null, ...output };
}
