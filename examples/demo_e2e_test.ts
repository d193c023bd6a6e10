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
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type DemoServer, startDemo } from "./_demo_server.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// Every wait of a page, a navigation or the browser's start is bounded.
const WAIT_MS = 30_000;

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
    // Playwright takes the profile folder as an argument rather than as a
    // --user-data-dir flag.
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      headless: true,
      timeout: WAIT_MS,
    });
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
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
  async function submit(button: string) {
    // The page is at the same URL before and after, so wait for the GET
    // that the form's POST was redirected to, then for it to load.
    const redirected = page.waitForResponse((response) =>
      response.request().method() === "GET" &&
      response.request().redirectedFrom()?.method() === "POST"
    );
    await page.click(`button:has-text("${button}")`);
    assert.equal((await redirected).status(), 200);
    await page.waitForLoadState("load");
  }

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
});
