// check: runtimes node26; needs chromium

// End-to-end test: the demo, served by Deno, driven by headless Chromium
// through playwright-core. Runs under Node 26:
//
//   node_modules/.bin/node --test examples/demo_e2e_test.ts
//
// Needs Debian's chromium package at /usr/bin/chromium.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { type DemoServer, startDemo } from "./_demo_server.ts";
import { launchChromium, submitForm, WAIT_MS } from "../testing/chromium.ts";

// Host names for the two-site tests: the app at app.example.test, a sibling
// subdomain at evil.example.test, another site at attacker.test.
const HOSTS =
  "--host-resolver-rules=MAP *.example.test 127.0.0.1, MAP attacker.test 127.0.0.1";

describe("the demo in Chromium", { timeout: 180_000 }, () => {
  const sessions = mkdtempSync(join(tmpdir(), "demo-e2e-sessions-"));
  // A fresh profile: no cookie of an earlier run can leak into this one.
  const profile = mkdtempSync(join(tmpdir(), "demo-e2e-profile-"));
  let demo: DemoServer;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    demo = await startDemo("deno", {
      SESSION_DIR: sessions,
      SESSION_SECRET: "a secret for the browser test of 32 bytes or more",
    });
    context = await launchChromium(profile, [HOSTS]);
    page = context.pages()[0] ?? await context.newPage();
  });

  after(async () => {
    await context?.close();
    await demo?.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(sessions, { recursive: true, force: true });
  });

  async function shown() {
    const text = (selector: string) =>
      page.locator(selector).count().then((n) =>
        n === 0 ? undefined : page.locator(selector).innerText()
      );
    return {
      visits: Number(await text("#visits")),
      flash: await text("#flash"),
      user: await text("#user"),
    };
  }

  async function sessionCookie() {
    const cookies = await context.cookies(demo.url);
    return cookies.find((cookie) => cookie.name === "sid");
  }

  /** Clicks a form's button and waits for the page the redirect leads to. */
  const submit = (button: string) => submitForm(page, button);

  async function logIn(name: string) {
    await page.fill('input[name="username"]', name);
    await submit("Log in");
  }

  it("counts visits, and shows the login flash once", async () => {
    await page.goto(demo.url);
    assert.deepEqual(await shown(), {
      visits: 1,
      flash: undefined,
      user: undefined,
    });
    const anonymous = await sessionCookie();

    await logIn("Ada");
    assert.deepEqual(await shown(), {
      visits: 2,
      flash: "Welcome, Ada! You are logged in.",
      user: "Ada",
    });
    assert.notEqual((await sessionCookie())?.value, anonymous?.value);

    await page.reload();
    assert.deepEqual(await shown(), {
      visits: 3,
      flash: undefined,
      user: "Ada",
    });
  });

  it("keeps the session cookie HttpOnly, SameSite=Lax and on Path=/", async () => {
    const cookie = await sessionCookie();
    assert.ok(cookie, "the browser holds the session cookie");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Lax");
    assert.equal(cookie.path, "/");
    assert.equal(cookie.domain, "127.0.0.1");
    assert.equal(
      await page.evaluate("document.cookie"),
      "",
      "scripts cannot read the session cookie",
    );
  });

  it("gives a fresh session for a cookie whose last byte was changed in the jar", async () => {
    const cookie = (await sessionCookie())!;
    // A character the signature's last position can hold, so the change
    // is caught by the signature check, not by the format check.
    const last = cookie.value.endsWith("A") ? "E" : "A";
    await context.addCookies([{
      ...cookie,
      value: cookie.value.slice(0, -1) + last,
    }]);
    await page.reload();
    assert.deepEqual(await shown(), {
      visits: 1,
      flash: undefined,
      user: undefined,
    });
  });

  it("logs out: the flash says so once, and the logged-in cookie is gone from the jar", async () => {
    await logIn("Grace");
    assert.equal((await shown()).user, "Grace");
    const loggedIn = (await sessionCookie())!;

    await submit("Log out");
    assert.deepEqual(await shown(), {
      visits: 1,
      flash: "You are logged out.",
      user: undefined,
    });
    const jar = await context.cookies();
    assert.ok(
      jar.every((cookie) => cookie.value !== loggedIn.value),
      "the logged-in session's cookie is gone from the jar",
    );
    await page.reload();
    assert.deepEqual(await shown(), {
      visits: 2,
      flash: undefined,
      user: undefined,
    });

    // Logout deleted the session on the server too: its cookie, put back
    // in the jar, starts a fresh session.
    await context.clearCookies();
    await context.addCookies([loggedIn]);
    await page.reload();
    assert.deepEqual(await shown(), {
      visits: 1,
      flash: undefined,
      user: undefined,
    });
  });

  it("a form left open in a second tab, sent after the first tab logged in or out, leads home with a note instead of a 403", async () => {
    await context.clearCookies();
    await page.goto(demo.url);
    const second = await context.newPage();
    /** Clicks `button` in the second tab; resolves to the POST's status. */
    const send = async (button: string): Promise<number> => {
      const posted = second.waitForResponse((response) =>
        response.request().method() === "POST"
      );
      await second.click(`button:has-text("${button}")`);
      const response = await posted;
      // Closing a tab amid a navigation can hang: let the page load.
      await response.finished();
      await second.waitForLoadState("load");
      return response.status();
    };
    /** The note on the page the refused form led to. */
    const note = async (): Promise<string> => {
      await second.waitForSelector("#flash", { timeout: WAIT_MS });
      return await second.locator("#flash").innerText();
    };
    const user = () =>
      second.locator("#user").count().then((n) =>
        n === 0 ? undefined : second.locator("#user").innerText()
      );
    try {
      await second.goto(demo.url);
      await logIn("Ada");
      await second.fill('input[name="username"]', "Ada");
      assert.equal(await send("Log in"), 303);
      assert.match(await note(), /out of date/);
      assert.equal(await user(), "Ada");

      await second.reload();
      await submit("Log out");
      assert.equal(await send("Log out"), 303);
      assert.match(await note(), /out of date/);
      assert.equal(await user(), undefined);
    } finally {
      await second.close();
    }
  });
});

/**
 * The attacker's server, on loopback, under whichever host name the
 * browser used: `/toss` sets a `sid` cookie for the whole parent domain,
 * `/forge` serves a form that posts itself to the app at once.
 */
async function startAttacker(): Promise<{ port: number; server: Server }> {
  const server = createServer((request, response) => {
    const url = new URL(request.url!, "http://attacker");
    if (url.pathname === "/toss") {
      response.setHeader(
        "Set-Cookie",
        `sid=${url.searchParams.get("value")}; Domain=example.test; Path=/`,
      );
      response.end("tossed");
      return;
    }
    const fields = [...url.searchParams].filter(([name]) => name !== "to")
      .map(([name, value]) =>
        `<input type="hidden" name="${name}" value="${value}">`
      ).join("");
    response.setHeader("Content-Type", "text/html");
    response.end(
      `<!doctype html><body onload="document.forms[0].submit()">` +
        `<form method="post" action="${url.searchParams.get("to")}">` +
        `${fields}</form></body>`,
    );
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve())
  );
  return { port: (server.address() as AddressInfo).port, server };
}

describe("the demo in Chromium, against a sibling subdomain and another site", {
  timeout: 180_000,
}, () => {
  const sessions = mkdtempSync(join(tmpdir(), "demo-e2e-sessions-"));
  const profile = mkdtempSync(join(tmpdir(), "demo-e2e-profile-"));
  let demo: DemoServer;
  let attacker: { port: number; server: Server };
  let context: BrowserContext;
  let page: Page;
  let app: string;

  before(async () => {
    demo = await startDemo("deno", {
      SESSION_DIR: sessions,
      SESSION_SECRET: "a secret for the browser test of 32 bytes or more",
    });
    app = demo.url.replace("127.0.0.1", "app.example.test");
    attacker = await startAttacker();
    context = await launchChromium(profile, [HOSTS]);
    page = context.pages()[0] ?? await context.newPage();
  });

  after(async () => {
    await context?.close();
    await demo?.stop();
    attacker?.server.close();
    rmSync(profile, { recursive: true, force: true });
    rmSync(sessions, { recursive: true, force: true });
  });

  const attackerUrl = (host: string, path: string) =>
    `http://${host}:${attacker.port}${path}`;

  async function user(): Promise<string | undefined> {
    const found = page.locator("#user");
    return await found.count() === 0 ? undefined : await found.innerText();
  }

  /** Logs in through the page's form; resolves to the POST's status. */
  async function logIn(name: string): Promise<number> {
    await page.goto(app);
    await page.fill('input[name="username"]', name);
    const posted = page.waitForResponse((response) =>
      response.request().method() === "POST"
    );
    await page.click('button:has-text("Log in")');
    const status = (await posted).status();
    await page.waitForLoadState("load");
    return status;
  }

  /** Opens an attacker's page that posts `fields` to `path` of the app. */
  async function forge(
    host: string,
    path: string,
    fields: Record<string, string> = {},
  ): Promise<number> {
    const query = new URLSearchParams({
      to: new URL(path, app).href,
      ...fields,
    });
    const posted = page.waitForResponse((response) =>
      response.request().method() === "POST" &&
      response.url().startsWith(app)
    );
    // The page submits itself on load: wait for the POST, not the load.
    await page.goto(attackerUrl(host, `/forge?${query}`), {
      waitUntil: "commit",
    });
    const status = (await posted).status();
    await page.waitForURL(new URL(path, app).href, { waitUntil: "load" });
    return status;
  }

  it("a cookie tossed from a sibling subdomain does not lock the victim out", async () => {
    await context.clearCookies();
    await page.goto(attackerUrl("evil.example.test", "/toss?value=planted"));
    const tossed = await context.cookies(app);
    assert.deepEqual(tossed.map((c) => [c.name, c.domain]), [
      ["sid", ".example.test"],
    ]);
    // The browser now sends the planted sid before the app's own.
    assert.equal(await logIn("Ada"), 303);
    assert.equal(await user(), "Ada");
    await page.reload();
    assert.equal(await user(), "Ada");
  });

  it("forged logout and login forms from another site and a sibling subdomain get 403, and the user stays logged in", async () => {
    await context.clearCookies();
    assert.equal(await logIn("Grace"), 303);
    assert.equal(await user(), "Grace");
    for (const host of ["attacker.test", "evil.example.test"]) {
      assert.equal(await forge(host, "/logout"), 403, `logout from ${host}`);
      assert.equal(
        await forge(host, "/login", { username: "mallory" }),
        403,
        `login from ${host}`,
      );
      await page.goto(app);
      assert.equal(await user(), "Grace", `after the forms from ${host}`);
    }
  });

  it("a CSRF token from a session the attacker planted is refused once the victim has logged in", async () => {
    await context.clearCookies();
    // The attacker's own session, and the token of its login form.
    const visit = await fetch(demo.url, {
      signal: AbortSignal.timeout(WAIT_MS),
    });
    const planted = visit.headers.get("Set-Cookie")!.split(";")[0].slice(4);
    const token =
      (await visit.text()).match(/name="_csrf" value="([^"]+)"/)![1];
    // Planted in the victim's browser (a script injection, a shared
    // computer): the victim's login page runs in the attacker's session.
    await context.addCookies([{
      name: "sid",
      value: planted,
      domain: "app.example.test",
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
    }]);
    assert.equal(await logIn("Ada"), 303);
    assert.equal(await user(), "Ada");
    const victim = (await context.cookies(app)).find((c) => c.name === "sid")!;
    assert.notEqual(victim.value, planted, "the login changed the id");

    // The victim's cookie with the planted token, from a client that sends
    // no Origin (so the token alone decides), then from a sibling's page.
    const direct = await fetch(new URL("/logout", demo.url), {
      method: "POST",
      headers: {
        Cookie: `sid=${victim.value}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ _csrf: token }),
      redirect: "manual",
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.equal(direct.status, 403);
    assert.match(await direct.text(), /does not match/);
    assert.equal(
      await forge("evil.example.test", "/logout", { _csrf: token }),
      403,
    );
    await page.goto(app);
    assert.equal(await user(), "Ada");
  });
});
