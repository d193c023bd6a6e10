// check: runtimes node26
// The session flow in Cloudflare's runtime, workerd, without `nodejs_compat`:
// testing/workerd_app.ts bundled with `deno bundle` for the browser platform,
// served on loopback, driven over HTTP. A module that imports a `node:`
// built-in fails the bundle or the worker's load, and so this test.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoPath } from "./repo_root.ts";

const STARTUP_MS = 20_000;

let work: string;
let workerd: ChildProcess | undefined;
let origin: string;
let workerdLog = "";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "workerd-"));
  const bundled = spawnSync(
    repoPath("node_modules", ".bin", "deno"),
    [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "esm",
      "-o",
      join(work, "worker.js"),
      repoPath("testing", "workerd_app.ts"),
    ],
    { cwd: repoPath(), encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(bundled.status, 0, `deno bundle failed:\n${bundled.stderr}`);
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  // No compatibilityFlags: no nodejs_compat, so no `node:` module exists.
  writeFileSync(
    join(work, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2025-09-01",
);
`,
  );
  workerd = spawn(
    repoPath("node_modules", ".bin", "workerd"),
    ["serve", join(work, "config.capnp")],
    { cwd: work, stdio: ["ignore", "pipe", "pipe"] },
  );
  workerd.stdout!.on("data", (chunk) => (workerdLog += chunk));
  workerd.stderr!.on("data", (chunk) => (workerdLog += chunk));
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    try {
      const response = await fetch(`${origin}/modules`);
      assert.equal(await response.text(), "true");
      break;
    } catch (error) {
      if (workerd.exitCode !== null || Date.now() > deadline) {
        throw new Error(`workerd did not serve the worker:\n${workerdLog}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
});

after(() => {
  workerd?.kill();
  rmSync(work, { recursive: true, force: true });
});

/** A browser's cookie for one store: the `sid` pair it sends back. */
class Client {
  cookie = "";
  store: string;
  constructor(store: string) {
    this.store = store;
  }

  async request(path: string, method = "GET"): Promise<string> {
    const response = await fetch(`${origin}/${this.store}/${path}`, {
      method,
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    assert.equal(response.status, 200, `${method} ${path}`);
    for (const header of response.headers.getSetCookie()) {
      const pair = header.slice(0, header.indexOf(";"));
      const expired = /; Max-Age=0(;|$)/.test(header) || pair === "sid=";
      this.cookie = expired ? "" : pair;
    }
    return await response.text();
  }
}

describe("workerd without nodejs_compat", () => {
  it("workerd: the bundled worker imports no node: module", () => {
    const bundle = readFileSync(join(work, "worker.js"), "utf8");
    // Static imports start a line; JSDoc examples in comments do not count.
    assert.doesNotMatch(
      bundle,
      /^\s*(?:import|export)\b[^\n]*["']node:|(?:require|import)\(\s*["']node:/m,
    );
  });

  it("workerd: the CSRF guard, the Redis and KV stores and the conformance suite load", async () => {
    assert.equal(await (await fetch(`${origin}/modules`)).text(), "true");
  });

  for (const store of ["signed", "encrypted", "memory"]) {
    it(`workerd: ${store}: counter, login with regenerateId(true), flash and logout`, async () => {
      const client = new Client(store);
      assert.equal(await client.request("counter"), "1");
      assert.equal(await client.request("counter"), "2");
      if (store === "encrypted") {
        const sealed = Buffer.from(
          client.cookie.slice("sid=".length),
          "base64url",
        );
        assert.doesNotMatch(sealed.toString("latin1"), /count/);
      }
      const beforeLogin = client.cookie;

      assert.equal(await client.request("login", "POST"), "logged in");
      assert.notEqual(client.cookie, beforeLogin);
      // A flash value is seen by the next request only.
      assert.equal(await client.request("flash"), "welcome, ada");
      assert.equal(await client.request("whoami"), "ada");
      assert.equal(await client.request("flash"), "no message");
      assert.equal(await client.request("counter"), "3");
      if (store === "memory") {
        // regenerateId(true) deleted the old id's session.
        const replay = new Client(store);
        replay.cookie = beforeLogin;
        assert.equal(await replay.request("counter"), "1");
      }

      assert.equal(await client.request("logout", "POST"), "logged out");
      assert.equal(client.cookie, "");
      assert.equal(await client.request("whoami"), "nobody");
    });
  }
});
