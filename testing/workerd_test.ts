// check: runtimes node26
// The session flow in Cloudflare's runtime, workerd, without `nodejs_compat`
// and with it: testing/workerd_app.ts (and, with `nodejs_compat`,
// testing/workerd_compat_app.ts, which adds the fs store and the conformance
// cases) bundled with `deno bundle` for the browser platform, served on
// loopback, driven over HTTP. Without `nodejs_compat`, a module that imports
// a `node:` built-in fails the bundle or the worker's load, and so this test;
// with it, the cookie codec takes node:crypto through
// `process.getBuiltinModule`.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free_port.ts";
import { repoPath } from "./repo_root.ts";

const STARTUP_MS = 20_000;

interface Runtime {
  entry: string;
  compatibilityDate: string;
  flags: string[];
  origin: string;
  workerd?: ChildProcess;
  log: string;
}

const runtimes: Record<string, Runtime> = {
  // Before 2026-08-04, workerd leaves nodejs_compat off unless asked for.
  "without nodejs_compat": {
    entry: "workerd_app.ts",
    compatibilityDate: "2025-09-01",
    flags: [],
    origin: "",
    log: "",
  },
  "with nodejs_compat": {
    entry: "workerd_compat_app.ts",
    compatibilityDate: "2026-11-01",
    flags: ["nodejs_compat"],
    origin: "",
    log: "",
  },
};
const plain = runtimes["without nodejs_compat"];
const compat = runtimes["with nodejs_compat"];

let work: string;

async function start(name: string, runtime: Runtime): Promise<void> {
  const dir = join(work, name.replaceAll(" ", "-"));
  const bundled = spawnSync(
    repoPath("node_modules", ".bin", "deno"),
    [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "esm",
      "-o",
      join(dir, "worker.js"),
      repoPath("testing", runtime.entry),
    ],
    { cwd: repoPath(), encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(bundled.status, 0, `deno bundle failed:\n${bundled.stderr}`);
  const port = await freePort();
  runtime.origin = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "config.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "${runtime.compatibilityDate}",
  compatibilityFlags = ${JSON.stringify(runtime.flags)},
  bindings = [(name = "RUNTIME", text = "${name}")],
);
`,
  );
  const workerd = spawn(
    repoPath("node_modules", ".bin", "workerd"),
    ["serve", join(dir, "config.capnp")],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  runtime.workerd = workerd;
  workerd.stdout!.on("data", (chunk) => (runtime.log += chunk));
  workerd.stderr!.on("data", (chunk) => (runtime.log += chunk));
  const deadline = Date.now() + STARTUP_MS;
  for (;;) {
    try {
      const response = await fetch(`${runtime.origin}/modules`);
      assert.equal(response.status, 200);
      break;
    } catch (error) {
      if (workerd.exitCode !== null || Date.now() > deadline) {
        throw new Error(`workerd did not serve the worker:\n${runtime.log}`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "workerd-"));
  for (const [name, runtime] of Object.entries(runtimes)) {
    await start(name, runtime);
  }
});

after(() => {
  for (const runtime of Object.values(runtimes)) runtime.workerd?.kill();
  rmSync(work, { recursive: true, force: true });
});

/** A browser's cookie for one store of one worker: the `sid` pair it sends back. */
class Client {
  cookie = "";
  runtime: Runtime;
  store: string;
  constructor(runtime: Runtime, store: string) {
    this.runtime = runtime;
    this.store = store;
  }

  async request(path: string, method = "GET"): Promise<string> {
    const response = await fetch(
      `${this.runtime.origin}/${this.store}/${path}`,
      {
        method,
        headers: this.cookie ? { cookie: this.cookie } : {},
      },
    );
    assert.equal(response.status, 200, `${method} ${path}`);
    for (const header of response.headers.getSetCookie()) {
      const pair = header.slice(0, header.indexOf(";"));
      const expired = /; Max-Age=0(;|$)/.test(header) || pair === "sid=";
      this.cookie = expired ? "" : pair;
    }
    return await response.text();
  }
}

describe("workerd", () => {
  it("workerd: the bundled worker without nodejs_compat imports no node: module", () => {
    const bundle = readFileSync(
      join(work, "without-nodejs_compat", "worker.js"),
      "utf8",
    );
    // Static imports start a line; JSDoc examples in comments do not count.
    assert.doesNotMatch(
      bundle,
      /^\s*(?:import|export)\b[^\n]*["']node:|(?:require|import)\(\s*["']node:/m,
    );
  });

  for (const [name, runtime] of Object.entries(runtimes)) {
    it(`workerd ${name}: every public module but the fs store and mod.ts loads`, async () => {
      const { exports } = JSON.parse(
        readFileSync(repoPath("deno.json"), "utf8"),
      );
      const expected = Object.keys(exports)
        .filter((name) => name !== "." && name !== "./fs-storage").sort();
      const response = await fetch(`${runtime.origin}/modules`);
      assert.deepEqual((await response.json()).sort(), expected);
    });

    for (const store of ["signed", "encrypted", "memory"]) {
      it(`workerd ${name}: ${store}: counter, login with regenerateId(true), flash and logout`, async () => {
        const client = new Client(runtime, store);
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
          const replay = new Client(runtime, store);
          replay.cookie = beforeLogin;
          assert.equal(await replay.request("counter"), "1");
        }

        assert.equal(await client.request("logout", "POST"), "logged out");
        assert.equal(client.cookie, "");
        assert.equal(await client.request("whoami"), "nobody");
      });
    }

    for (const store of ["signed", "encrypted"]) {
      it(`workerd ${name}: ${store}: a cookie of the old secret is read after rotation, and one of the new secret is refused by the old secret alone`, async () => {
        const client = new Client(runtime, store);
        assert.equal(await client.request("counter"), "1");
        client.store = `${store}-rotated`;
        assert.equal(await client.request("counter"), "2");
        client.store = store;
        assert.equal(await client.request("counter"), "1");
      });
    }

    it(`workerd ${name}: csrf.protect lets a form with its session's token through to a handler that reads it, and refuses one without`, async () => {
      const client = new Client(runtime, "csrf");
      const token = await client.request("");
      const post = (body: string) =>
        fetch(`${runtime.origin}/csrf/`, {
          method: "POST",
          headers: {
            cookie: client.cookie,
            "content-type": "application/x-www-form-urlencoded",
            origin: runtime.origin,
          },
          body,
        });
      const accepted = await post(`user=ada&_csrf=${token}`);
      assert.equal(await accepted.text(), "hello ada");
      const refused = await post("user=ada");
      assert.equal(refused.status, 403);
      await refused.body?.cancel();
    });

    it(`workerd ${name}: withSession as the fetch export gives the handler env and ctx, through csrf.protect`, async () => {
      const response = await fetch(`${runtime.origin}/context/`);
      assert.deepEqual(await response.json(), {
        runtime: name,
        waitUntil: "function",
      });
    });
  }

  it("workerd: node:crypto is there for the cookie codec with nodejs_compat only", async () => {
    assert.equal(
      await (await fetch(`${plain.origin}/node-crypto`)).json(),
      false,
    );
    assert.equal(
      await (await fetch(`${compat.origin}/node-crypto`)).json(),
      true,
    );
  });

  for (const store of ["signed", "encrypted"]) {
    it(`workerd: ${store}: a cookie written without nodejs_compat is read with it, and back, long values included`, async () => {
      const client = new Client(plain, store);
      assert.equal(await client.request("counter"), "1");
      assert.equal(await client.request("pad"), "padded");
      client.runtime = compat;
      assert.equal(await client.request("counter"), "2");
      client.runtime = plain;
      assert.equal(await client.request("counter"), "3");
    });
  }

  it("workerd with nodejs_compat: the conformance suite's cases run in the worker, and the memory store passes them all", async () => {
    const response = await fetch(`${compat.origin}/conformance`);
    const { passed, failed } = await response.json();
    assert.deepEqual(failed, []);
    assert.ok(passed > 0);
  });

  it("workerd with nodejs_compat: the fs store, whose files would last one request, refuses to be created", async () => {
    const response = await fetch(`${compat.origin}/fs`);
    assert.match(
      await response.text(),
      /^createFsSessionStorage: Cloudflare Workers keep the files a request writes for that request only/,
    );
  });
});
