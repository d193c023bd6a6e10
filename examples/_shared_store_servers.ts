// Test helper: starts shared_store_app.ts as a child process, and plays a
// browser that keeps one session cookie while it hops between servers.
// Shared by the several-servers tests of each store.

import { it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const app = fileURLToPath(new URL("./shared_store_app.ts", import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
// Each test starts two servers; Bun's default of 5 s is too short for that.
const TEST_TIMEOUT_MS = 120_000;

/** The command line that runs the app under each runtime. */
export const RUNTIMES = {
  deno: [bin("deno"), "run", "-A", "--unstable-kv", app],
  bun: [bin("bun"), app],
  // node_modules/.bin/node is Node 26, which runs TypeScript as it is.
  node: [bin("node"), app],
} as const;

/** A runtime the app runs under. */
export type Runtime = keyof typeof RUNTIMES;

/** The runtime running this code. */
function currentRuntime(): Runtime {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

/** A running app server. */
export interface AppServer {
  /** The URL it printed, ending in `/`. */
  url: string;
  /** Kills it at once with SIGKILL, as a crash would, and waits for it. */
  kill(): Promise<void>;
  /** Stops it with SIGTERM and waits for it. */
  stop(): Promise<void>;
}

/** Starts the app under `runtime` with the given environment. */
async function startApp(
  runtime: Runtime,
  env: Record<string, string>,
): Promise<AppServer> {
  const [command, ...args] = RUNTIMES[runtime];
  const child = spawn(command, args, {
    cwd: root,
    env: {
      ...process.env,
      NO_COLOR: "1",
      PORT: "0",
      HOST: "127.0.0.1",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (error) => {
      output += String(error);
      resolve();
    });
  });
  const url = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), START_TIMEOUT_MS);
    const onData = (chunk: string) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.setEncoding("utf8").on("data", onData);
    child.stderr!.setEncoding("utf8").on("data", (s) => output += s);
    exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
  if (url === undefined) {
    await end(child, exited, "SIGKILL");
    throw new Error(`The app did not start under ${runtime}:\n${output}`);
  }
  return {
    url,
    kill: () => end(child, exited, "SIGKILL"),
    stop: () => end(child, exited, "SIGTERM"),
  };
}

async function end(
  child: ChildProcess,
  exited: Promise<void>,
  signal: "SIGKILL" | "SIGTERM",
) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), STOP_TIMEOUT_MS);
  });
  if (await Promise.race([exited, late]) === "late") child.kill("SIGKILL");
  clearTimeout(timer);
  await exited;
}

/** What the app answers: the session's state as one server saw it. */
export interface AppState {
  server: string;
  userId: string | null;
  count: number;
  message: string | null;
  marks: string[];
}

/** A browser with one cookie jar, talking to any of the servers. */
export class Browser {
  #cookie: string | undefined;

  /** Sends a request to `server` with the session cookie, and keeps the cookie it sets. */
  async send(
    server: AppServer,
    method: "GET" | "POST",
    path: string,
  ): Promise<AppState> {
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: this.#cookie ? { Cookie: this.#cookie } : {},
    });
    const setCookie = response.headers.get("set-cookie");
    if (setCookie) {
      const [pair, ...attributes] = setCookie.split(";").map((s) => s.trim());
      const cleared = pair.endsWith("=") ||
        attributes.some((a) => /^max-age=0$/i.test(a));
      this.#cookie = cleared ? undefined : pair;
    }
    if (!response.ok) {
      throw new Error(`${method} ${path} answered ${response.status}`);
    }
    return await response.json() as AppState;
  }

  /** Whether the browser holds a session cookie. */
  get hasCookie(): boolean {
    return this.#cookie !== undefined;
  }

  /** Another browser holding a copy of this one's cookie, as a thief would. */
  copy(): Browser {
    const copy = new Browser();
    copy.#cookie = this.#cookie;
    return copy;
  }
}

// Sessions and overlapping requests per session of the several-servers
// overlap test, and trials of the logout race.
const SESSIONS = 5;
const MARKS_PER_SESSION = 20;
const LOGOUT_TRIALS = 100;
const ATTACKER_REQUESTS = 4;

/**
 * Has `browser` set the session key `key` on `server` through /mark, which
 * waits 0 to 5 ms first, as a handler's I/O would.
 */
function mark(browser: Browser, server: AppServer, key: string) {
  const delay = Math.floor(Math.random() * 6);
  return browser.send(server, "POST", `/mark?key=${key}&delay=${delay}`);
}

/**
 * Registers the several-servers tests of `store`: each starts app servers
 * under `runtime` (this one by default) that share one session secret, with
 * the environment `storeEnv()` returns, which picks the store and where it
 * keeps sessions. Servers the tests start are stopped by them.
 */
export function testSeveralServers(
  store: string,
  storeEnv: () => Record<string, string>,
  runtime: Runtime = currentRuntime(),
): void {
  const secret = randomBytes(32).toString("base64");
  const start = (name: string) =>
    startApp(runtime, {
      ...storeEnv(),
      SESSION_SECRET: secret,
      SERVER_NAME: name,
    });

  /** Runs `body` with servers A and B started, and stops them after. */
  async function withTwoServers(
    body: (a: AppServer, b: AppServer) => Promise<void>,
  ): Promise<void> {
    const a = await start("A");
    try {
      const b = await start("B");
      try {
        await body(a, b);
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
    }
  }

  it(`${store}: one client hops between two servers and its session follows`, {
    timeout: TEST_TIMEOUT_MS,
  }, async () => {
    await withTwoServers(async (a, b) => {
      const browser = new Browser();
      assert.equal((await browser.send(a, "GET", "/")).userId, null);

      const login = await browser.send(a, "POST", "/login?user=mj");
      assert.deepEqual([login.server, login.userId], ["A", "mj"]);

      await browser.send(b, "POST", "/count");
      const counted = await browser.send(b, "POST", "/count");
      assert.deepEqual(
        [counted.server, counted.userId, counted.count],
        ["B", "mj", 2],
      );

      await browser.send(b, "POST", "/flash?message=Saved%20on%20B");
      const flashed = await browser.send(a, "GET", "/");
      assert.deepEqual(
        [flashed.server, flashed.message, flashed.count],
        ["A", "Saved on B", 2],
      );
      assert.equal((await browser.send(b, "GET", "/")).message, null);

      await browser.send(a, "POST", "/logout");
      assert.equal(browser.hasCookie, false);
      const after = await browser.send(b, "GET", "/");
      assert.deepEqual(
        [after.server, after.userId, after.count],
        ["B", null, 0],
      );
    });
  });

  it(
    `${store}: a server killed mid-way loses nothing and the other carries on`,
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      await withTwoServers(async (a, b) => {
        const browser = new Browser();
        await browser.send(a, "POST", "/login?user=ada");
        await browser.send(a, "POST", "/count");
        await browser.send(b, "POST", "/count");
        await browser.send(a, "POST", "/count");
        await browser.send(a, "POST", "/flash?message=Written%20on%20A");
        await a.kill();
        await assert.rejects(browser.send(a, "GET", "/"));

        const survived = await browser.send(b, "GET", "/");
        assert.deepEqual(survived, {
          server: "B",
          userId: "ada",
          count: 3,
          message: "Written on A",
          marks: [],
        });
        const counted = await browser.send(b, "POST", "/count");
        assert.deepEqual([counted.userId, counted.count], ["ada", 4]);
        await browser.send(b, "POST", "/logout");
        assert.equal((await browser.send(b, "GET", "/")).userId, null);
      });
    },
  );

  it(
    `${store}: two servers writing different keys of the same sessions at once lose none`,
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      await withTwoServers(async (a, b) => {
        const browsers = Array.from(
          { length: SESSIONS },
          () => new Browser(),
        );
        for (const browser of browsers) {
          await browser.send(a, "POST", "/login?user=mj");
        }
        await Promise.all(
          browsers.flatMap((browser) =>
            Array.from(
              { length: MARKS_PER_SESSION },
              (_, n) => mark(browser.copy(), n % 2 === 0 ? a : b, `k${n}`),
            )
          ),
        );
        const expected = Array.from(
          { length: MARKS_PER_SESSION },
          (_, n) => `k${n}`,
        ).sort();
        let lost = 0;
        for (const browser of browsers) {
          const { marks, userId } = await browser.send(b, "GET", "/");
          assert.equal(userId, "mj");
          lost += expected.filter((key) => !marks.includes(key)).length;
        }
        assert.equal(
          lost,
          0,
          `${lost} of ${SESSIONS * MARKS_PER_SESSION} updates lost`,
        );
      });
    },
  );

  it(
    `${store}: a logout is final though a thief's ${ATTACKER_REQUESTS} overlapping requests carry the cookie, in ${LOGOUT_TRIALS} trials`,
    {
      timeout: TEST_TIMEOUT_MS,
    },
    async () => {
      await withTwoServers(async (a, b) => {
        let loggedIn = 0;
        for (let trial = 0; trial < LOGOUT_TRIALS; trial++) {
          const victim = new Browser();
          await victim.send(a, "POST", "/login?user=victim");
          const thief = victim.copy();
          const attacks = Array.from(
            { length: ATTACKER_REQUESTS },
            (_, n) => mark(thief.copy(), n % 2 === 0 ? a : b, `t${n}`),
          );
          await victim.send(trial % 2 === 0 ? a : b, "POST", "/logout");
          await Promise.all(attacks);
          const after = await thief.copy().send(a, "GET", "/");
          if (after.userId !== null) loggedIn++;
        }
        assert.equal(
          loggedIn,
          0,
          `${loggedIn} of ${LOGOUT_TRIALS} trials stayed logged in after ` +
            "the logout",
        );
      });
    },
  );
}
