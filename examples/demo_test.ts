// check: runtimes node26

// Smoke test of the demo: starts it under Deno, Bun and Node 26 as a child
// process on a free loopback port and walks the counter, login, flash and
// logout flow over HTTP with tough-cookie's cookie jar, as a browser would.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CookieJar } from "tough-cookie";
import {
  type DemoServer,
  runDemoToExit,
  type Runtime,
  RUNTIMES,
  startDemo,
} from "./_demo_server.ts";

const SECRET = "a secret for the demo smoke test of 32 bytes or more";

/** A client with its own cookie jar that does not follow redirects. */
class Client {
  jar = new CookieJar();
  base: string;
  /** The CSRF token of the last page, which the next form sends. */
  token = "";
  constructor(base: string) {
    this.base = base;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, this.base).href;
    const headers = new Headers(init.headers);
    const cookie = await this.jar.getCookieString(url);
    if (cookie) headers.set("Cookie", cookie);
    const response = await fetch(url, {
      ...init,
      headers,
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    for (const setCookie of response.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url);
    }
    return response;
  }

  /** GET / and what the page shows. */
  async home() {
    const response = await this.request("/");
    assert.equal(response.status, 200);
    const page = readPage(await response.text());
    this.token = page.token ?? "";
    return { response, ...page };
  }

  /** POSTs a form with the last page's token; checks for the redirect to `/`. */
  async post(path: string, form: Record<string, string> = {}) {
    const response = await this.request(path, {
      method: "POST",
      body: new URLSearchParams({ _csrf: this.token, ...form }),
    });
    await response.body?.cancel();
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("Location"), "/");
    return response;
  }

  async sessionCookie(): Promise<string | undefined> {
    const cookies = await this.jar.getCookies(this.base);
    return cookies.find((c) => c.key === "sid")?.value;
  }
}

function readPage(html: string) {
  return {
    visits: Number(html.match(/id="visits">(\d+)</)?.[1]),
    flash: html.match(/id="flash"[^>]*>([^<]*)</)?.[1],
    user: html.match(/id="user">([^<]*)</)?.[1],
    loginForm: html.includes('action="/login"'),
    token: html.match(/name="_csrf" value="([^"]+)"/)?.[1],
  };
}

/** Runs `body` against a demo started under `runtime`, then stops it. */
async function withDemo(
  runtime: Runtime,
  env: Record<string, string>,
  body: (demo: DemoServer) => Promise<void>,
) {
  const demo = await startDemo(runtime, env);
  try {
    await body(demo);
  } finally {
    await demo.stop();
  }
}

async function walkTheFlow(base: string) {
  const client = new Client(base);

  const first = await client.home();
  assert.equal(first.visits, 1);
  assert.equal(first.user, undefined);
  assert.ok(first.loginForm);
  const [setCookie] = first.response.headers.getSetCookie();
  assert.match(setCookie, /^sid=/);
  assert.match(setCookie, /; HttpOnly/i);
  assert.match(setCookie, /; SameSite=Lax/i);
  assert.match(setCookie, /; Path=\//i);
  assert.equal((await client.home()).visits, 2);

  const anonymousCookie = await client.sessionCookie();
  await client.post("/login", { username: "Ada <admin>" });
  const loggedInCookie = await client.sessionCookie();
  assert.ok(loggedInCookie);
  assert.notEqual(loggedInCookie, anonymousCookie, "login changes the id");

  const welcome = await client.home();
  assert.equal(
    welcome.flash,
    "Welcome, Ada &#60;admin&#62;! You are logged in.",
  );
  assert.equal(welcome.user, "Ada &#60;admin&#62;");
  assert.equal(welcome.visits, 3, "the session kept its data at login");
  const again = await client.home();
  assert.equal(again.flash, undefined, "a flash is shown once");
  assert.equal(again.visits, 4);

  // regenerateId(true) deleted the session the id before login named.
  const planted = new Client(base);
  await planted.jar.setCookie(`sid=${anonymousCookie}`, base);
  const fixation = await planted.home();
  assert.equal(fixation.visits, 1);
  assert.equal(fixation.user, undefined);

  await client.post("/logout");
  assert.notEqual(await client.sessionCookie(), loggedInCookie);
  const goodbye = await client.home();
  assert.equal(goodbye.flash, "You are logged out.");
  assert.equal(goodbye.user, undefined);
  assert.equal(goodbye.visits, 1, "logout started a new session");
  assert.equal((await client.home()).flash, undefined);

  // Logout destroyed the logged-in session: its cookie no longer works.
  const replay = new Client(base);
  await replay.jar.setCookie(`sid=${loggedInCookie}`, base);
  const replayed = await replay.home();
  assert.equal(replayed.user, undefined);
  assert.equal(replayed.visits, 1);

  await client.post("/login", { username: "   " });
  const refused = await client.home();
  assert.match(refused.flash ?? "", /Enter a name/);
  assert.equal(refused.user, undefined);
}

describe("the demo", () => {
  for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
    it(`${runtime}: counts visits, logs in with a new id, flashes once, logs out`, async () => {
      const directory = mkdtempSync(join(tmpdir(), "demo-sessions-"));
      try {
        await withDemo(runtime, { SESSION_DIR: directory }, async (demo) => {
          await walkTheFlow(demo.url);
          assert.match(
            demo.output().stderr,
            /SESSION_SECRET is not set/,
            "the development secret comes with a warning",
          );
        });
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it(`${runtime}: refuses to start in production mode without SESSION_SECRET`, async () => {
      const { code, stderr } = await runDemoToExit(runtime, {
        NODE_ENV: "production",
        SESSION_STORE: "memory",
      });
      assert.equal(code, 1);
      assert.match(
        stderr,
        /SESSION_SECRET is not set, and NODE_ENV is production/,
      );
    });
  }

  it("node: with the sqlite store, a login survives a restart", async () => {
    const folder = mkdtempSync(join(tmpdir(), "x-session-demo-sqlite-"));
    try {
      const env = {
        SESSION_STORE: "sqlite",
        SESSION_DB: join(folder, "sessions.db"),
        SESSION_SECRET: SECRET,
      };
      const client = await withDemoClient(env, async (client, demo) => {
        await client.home(); // the login form's CSRF token
        await client.post("/login", { username: "ada" });
        assert.equal((await client.home()).user, "ada");
        assert.match(demo.output().stdout, /sqlite store in .*sessions\.db/);
      });
      await withDemoClient(env, async (restarted) => {
        restarted.jar = client.jar;
        const page = await restarted.home();
        assert.deepEqual([page.user, page.visits], ["ada", 3]);
      });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("node: with the cookie store, sessions survive a restart and a secret rotation", async () => {
    const env = { SESSION_STORE: "cookie", SESSION_SECRET: SECRET };
    const client = await withDemoClient(env, async (client, demo) => {
      await client.home();
      await client.post("/login", { username: "grace" });
      const page = await client.home();
      assert.equal(page.user, "grace");
      const value = await client.sessionCookie();
      assert.ok(value && !value.includes("grace"), "the cookie is encrypted");
      assert.doesNotMatch(demo.output().stderr, /SESSION_SECRET is not set/);
    });
    const rotated = `another secret for the smoke test of 32 bytes,${SECRET}`;
    await withDemoClient(
      { ...env, SESSION_SECRET: rotated },
      async (restarted) => {
        restarted.jar = client.jar;
        const page = await restarted.home();
        assert.equal(page.user, "grace", "the old secret still verifies");
        assert.equal(page.visits, 3);
      },
    );
    await withDemoClient(
      { ...env, SESSION_SECRET: "a third secret which never signed anything" },
      async (restarted) => {
        restarted.jar = client.jar;
        const page = await restarted.home();
        assert.equal(page.user, undefined, "a retired secret verifies nothing");
        assert.equal(page.visits, 1);
      },
    );
  });
});

// A HEAD shows no page, so it must change nothing a later GET shows: a
// link checker, a monitoring probe or `curl -I` must not eat the note a
// user is about to see.
async function headChangesNothing(base: string, directory: string) {
  const head = (client: Client, path: string) =>
    client.request(path, { method: "HEAD" });
  const files = () => readdirSync(directory, { recursive: true }).sort();

  const probe = new Client(base);
  const before = files();
  const anonymous = await head(probe, "/");
  assert.equal(anonymous.status, 200);
  assert.deepEqual(anonymous.headers.getSetCookie(), []);
  const list = await head(probe, "/sessions");
  assert.equal(list.status, 303);
  assert.equal(list.headers.get("Location"), "/");
  assert.deepEqual(list.headers.getSetCookie(), []);
  assert.deepEqual(files(), before, "a HEAD stores no session");

  const client = new Client(base);
  await client.home();
  await client.post("/login", { username: "ada" });
  const probed = await head(client, "/");
  assert.deepEqual(probed.headers.getSetCookie(), []);
  const page = await client.home();
  assert.equal(page.flash, "Welcome, ada! You are logged in.");
  assert.equal(page.visits, 2, "the HEAD counted no visit");
  assert.equal(probed.status, page.response.status);
  for (
    const name of ["Content-Type", "Cache-Control", "Content-Security-Policy"]
  ) {
    assert.equal(probed.headers.get(name), page.response.headers.get(name));
  }

  // The sessions page shows a flash of its own, after a logout of the
  // other sessions: a HEAD of it must not use that one up either.
  const otherDevice = new Client(base);
  await otherDevice.home();
  await otherDevice.post("/login", { username: "ada" });
  client.token = readPage(await (await client.request("/sessions")).text())
    .token!;
  const ended = await client.request("/sessions/logout-others", {
    method: "POST",
    body: new URLSearchParams({ _csrf: client.token }),
  });
  assert.equal(ended.headers.get("Location"), "/sessions");
  const listed = await head(client, "/sessions");
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.headers.getSetCookie(), []);
  const sessions = await client.request("/sessions");
  assert.equal(
    readPage(await sessions.text()).flash,
    "Logged out 1 other session.",
  );
}

describe("the demo's HEAD requests", () => {
  for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
    it(`${runtime}: a HEAD gets the status and headers of a GET, but counts no visit, uses up no flash, stores no session and sets no cookie`, async () => {
      const directory = mkdtempSync(join(tmpdir(), "demo-sessions-head-"));
      try {
        await withDemo(
          runtime,
          { SESSION_DIR: directory, SESSION_SECRET: SECRET },
          (demo) => headChangesNothing(demo.url, directory),
        );
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    });
  }
});

describe("the demo's forms", () => {
  it("node: a login without the page's token, or from another origin, is refused with a reason in development", async () => {
    await withDemoClient({ SESSION_STORE: "memory" }, async (client) => {
      await client.home();
      const forms = [
        [{}, { _csrf: "" }],
        [{ Origin: "http://evil.example.test" }, {}],
        [{ "Sec-Fetch-Site": "cross-site" }, {}],
      ] as const;
      for (const [headers, form] of forms) {
        const response = await client.request("/login", {
          method: "POST",
          headers,
          body: new URLSearchParams({
            _csrf: client.token,
            username: "mallory",
            ...form,
          }),
        });
        assert.equal(response.status, 403);
        assert.match(await response.text(), /^Forbidden: ./);
      }
      assert.equal((await client.home()).user, undefined);
    });
  });

  it("node: in production mode the cookie is __Host-sid, Secure, and a refusal says only Forbidden", async () => {
    const env = {
      NODE_ENV: "production",
      SESSION_STORE: "memory",
      SESSION_SECRET: SECRET,
    };
    await withDemoClient(env, async (client) => {
      const first = await client.request("/");
      const [setCookie] = first.headers.getSetCookie();
      assert.match(setCookie, /^__Host-sid=/);
      assert.match(setCookie, /; Secure/i);
      assert.match(setCookie, /; Path=\//i);
      assert.doesNotMatch(setCookie, /; Domain=/i);
      const forged = await client.request("/logout", { method: "POST" });
      assert.equal(forged.status, 403);
      assert.equal(await forged.text(), "Forbidden\n");
    });
  });
});

/** Starts the demo under Node, runs `body` with a client, returns the client. */
async function withDemoClient(
  env: Record<string, string>,
  body: (client: Client, demo: DemoServer) => Promise<void>,
): Promise<Client> {
  let client: Client | undefined;
  await withDemo("node", env, async (demo) => {
    client = new Client(demo.url);
    await body(client, demo);
  });
  return client!;
}

describe("the demo's session list", () => {
  /** A client logged in as `name`, and its sessions page. */
  async function loggedIn(base: string, name: string) {
    const client = new Client(base);
    await client.home();
    await client.post("/login", { username: name });
    return client;
  }
  async function listing(client: Client) {
    const html = await (await client.request("/sessions")).text();
    client.token = readPage(html).token!;
    return {
      flash: readPage(html).flash,
      rows: html.match(/<tr[ >]/g)!.length - 1,
      handles: [...html.matchAll(/name="handle" value="([^"]+)"/g)].map((
        match,
      ) => match[1]),
    };
  }
  async function logOut(client: Client, handle: string) {
    const response = await client.request("/sessions/logout", {
      method: "POST",
      body: new URLSearchParams({ _csrf: client.token, handle }),
    });
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("Location"), "/sessions");
    return (await listing(client)).flash;
  }

  it("node: a session is logged out by its row's handle, never by another user's handle or the current one's", async () => {
    await withDemoClient({ SESSION_STORE: "memory" }, async (_, demo) => {
      const laptop = await loggedIn(demo.url, "ada");
      const phone = await loggedIn(demo.url, "ada");
      const grace = await loggedIn(demo.url, "grace");
      const graceTablet = await loggedIn(demo.url, "grace");

      const ada = await listing(laptop);
      assert.equal(ada.rows, 2);
      assert.equal(ada.handles.length, 1, "no button on the current row");
      const [graceTabletHandle] = (await listing(grace)).handles;
      assert.equal(
        await logOut(laptop, graceTabletHandle),
        "That session had ended already.",
      );
      assert.equal((await graceTablet.home()).user, "grace");

      // The phone's page lists the laptop's session, with its handle.
      const [laptopHandle] = (await listing(phone)).handles;
      assert.equal(
        await logOut(laptop, laptopHandle),
        "This is the session you are using: log out from the home page.",
      );
      assert.equal((await laptop.home()).user, "ada");
      const [phoneHandle] = (await listing(laptop)).handles;
      assert.equal(
        await logOut(laptop, phoneHandle),
        "Logged out that session.",
      );
      assert.equal((await phone.home()).user, undefined, "the phone is out");
      assert.equal((await laptop.home()).user, "ada");
      assert.equal(
        await logOut(laptop, phoneHandle),
        "That session had ended already.",
      );
      assert.deepEqual((await listing(laptop)).handles, []);
    });
  });
});
