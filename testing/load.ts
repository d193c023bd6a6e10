// The load driver of load_test.ts: starts the demo (examples/demo.ts) on a
// runtime and a store, then drives it over loopback with many clients, each
// with its own tough-cookie jar and its requests in order, and checks every
// response's visit counter.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { CookieJar } from "tough-cookie";
import { repoPath } from "./repo_root.ts";
import { rssBytes } from "./rss.ts";

const DEMO = repoPath("examples", "demo.ts");
const RUNTIMES: Record<string, string[]> = {
  deno: [repoPath("node_modules", ".bin", "deno"), "run", "-A"],
  node: [repoPath("node_modules", ".bin", "node")],
  bun: [repoPath("node_modules", ".bin", "bun")],
};

/** What one load run does. */
export interface LoadOptions {
  runtime: "deno" | "node" | "bun";
  store: "fs" | "cookie";
  /** The fs store's folder; unused for the cookie store. */
  directory: string;
  clients: number;
  /** Page views per client; one more request logs each client in midway. */
  requestsPerClient: number;
  /** Requests in flight at once, across all clients. */
  concurrency: number;
  /** A safety net: no request starts after this many ms. */
  deadlineMs: number;
}

/** What one load run measured. */
export interface LoadFigures {
  requests: number;
  serverErrors: number;
  otherFailures: string[];
  lostSessions: number;
  sessionFiles: number | undefined;
  serverRssStartMb: number;
  serverRssPeakMb: number;
  serverRssEndMb: number;
  clientRssPeakMb: number;
  serverLog: string;
}

function rssMb(pid: number): number {
  return Math.round(rssBytes(pid) / 1024 / 1024);
}

// The session files: the per-user index under users/ is not counted.
function countFiles(dir: string): number {
  let count = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name === "users") continue;
    if (entry.isDirectory()) count += countFiles(join(dir, entry.name));
    else count++;
  }
  return count;
}

/** Starts the demo, runs the clients, stops the demo. */
export async function runLoad(options: LoadOptions): Promise<LoadFigures> {
  const command = RUNTIMES[options.runtime];
  const server = spawn(command[0], [...command.slice(1), DEMO], {
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      SESSION_STORE: options.store,
      SESSION_DIR: options.directory,
      SESSION_SECRET: randomBytes(32).toString("base64"),
      NODE_ENV: "development",
    },
  });
  let serverLog = "";
  server.stderr.setEncoding("utf8");
  server.stderr.on("data", (chunk: string) => serverLog += chunk);
  server.stdout.setEncoding("utf8");
  const exited = new Promise<void>((resolve) => server.on("close", resolve));

  try {
    const origin = await new Promise<string>((resolve, reject) => {
      let out = "";
      const timer = setTimeout(
        () => reject(new Error(`the demo did not start: ${serverLog}`)),
        60_000,
      );
      server.on("error", reject);
      server.on("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`the demo exited with ${code}: ${serverLog}`));
      });
      server.stdout.on("data", (chunk: string) => {
        out += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    return await drive(origin, server.pid!, options, () => serverLog);
  } finally {
    server.kill("SIGTERM");
    const killer = setTimeout(() => server.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  }
}

async function drive(
  origin: string,
  pid: number,
  options: LoadOptions,
  log: () => string,
): Promise<LoadFigures> {
  const deadline = Date.now() + options.deadlineMs;
  const figures: LoadFigures = {
    requests: 0,
    serverErrors: 0,
    otherFailures: [],
    lostSessions: 0,
    sessionFiles: undefined,
    serverRssStartMb: rssMb(pid),
    serverRssPeakMb: 0,
    serverRssEndMb: 0,
    clientRssPeakMb: 0,
    serverLog: "",
  };
  const sample = () => {
    figures.serverRssPeakMb = Math.max(figures.serverRssPeakMb, rssMb(pid));
    figures.clientRssPeakMb = Math.max(
      figures.clientRssPeakMb,
      Math.round(process.memoryUsage().rss / 2 ** 20),
    );
  };
  const sampler = setInterval(sample, 250);

  // At most `concurrency` requests in flight; the rest wait their turn.
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  async function request(
    jar: CookieJar,
    path: string,
    init: RequestInit = {},
  ): Promise<Response | undefined> {
    if (inFlight >= options.concurrency) {
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    inFlight++;
    try {
      if (Date.now() > deadline) return undefined;
      const url = origin + path;
      const cookie = await jar.getCookieString(url);
      const response = await fetch(url, {
        ...init,
        redirect: "manual",
        headers: { ...init.headers, ...(cookie ? { Cookie: cookie } : {}) },
        signal: AbortSignal.timeout(30_000),
      });
      figures.requests++;
      for (const header of response.headers.getSetCookie()) {
        await jar.setCookie(header, url);
      }
      if (response.status >= 500) figures.serverErrors++;
      return response;
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  async function client(index: number): Promise<void> {
    const jar = new CookieJar();
    const name = `client${index}`;
    // Each client logs in, with a new session id, partway through.
    const loginAfter = 1 + (index % options.requestsPerClient);
    for (let visit = 1; visit <= options.requestsPerClient; visit++) {
      const response = await request(jar, "/");
      if (response === undefined) {
        figures.otherFailures.push(`${name}: stopped at the deadline`);
        return;
      }
      const html = await response.text();
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
      const visits = Number(/id="visits">(\d+)</.exec(html)?.[1]);
      if (response.status !== 200 || visits !== visit) {
        figures.lostSessions++;
        figures.otherFailures.push(
          `${name}: visit ${visit} got status ${response.status}, ` +
            `counter ${visits}`,
        );
        return;
      }
      if (visit > loginAfter && !html.includes(`>${name}</strong>`)) {
        figures.lostSessions++;
        figures.otherFailures.push(`${name}: logged out at visit ${visit}`);
        return;
      }
      if (visit === loginAfter) {
        const login = await request(jar, "/login", {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
          body: `_csrf=${token}&username=${name}`,
        });
        await login?.body?.cancel();
        if (login?.status !== 303) {
          figures.otherFailures.push(`${name}: login got ${login?.status}`);
          return;
        }
      }
    }
  }

  try {
    await Promise.all(
      Array.from({ length: options.clients }, (_, index) => client(index)),
    );
  } finally {
    clearInterval(sampler);
  }
  sample();
  figures.serverRssEndMb = rssMb(pid);
  if (options.store === "fs") {
    figures.sessionFiles = countFiles(options.directory);
  }
  figures.serverLog = log();
  return figures;
}
