// check: runtimes node26; needs chromium

// End-to-end test of the demo's "Your sessions" page: the demo, served by
// Deno on its fs store, and three browser contexts of headless Chromium
// (three devices), through playwright-core. Runs under Node 26:
//
//   node_modules/.bin/node --test examples/demo_sessions_e2e_test.ts
//
// Needs Debian's chromium package at /usr/bin/chromium.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { type DemoServer, startDemo } from "./_demo_server.ts";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  submitForm,
  WAIT_MS,
} from "../testing/chromium.ts";

describe("the demo's session list in Chromium", { timeout: 180_000 }, () => {
  const sessions = mkdtempSync(join(tmpdir(), "demo-sessions-e2e-"));
  let demo: DemoServer;
  let browser: Browser;

  before(async () => {
    demo = await startDemo("deno", {
      SESSION_DIR: sessions,
      SESSION_SECRET: "a secret for the browser test of 32 bytes or more",
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: CHROMIUM_FLAGS,
      headless: true,
      timeout: WAIT_MS,
    });
  });

  after(async () => {
    await browser?.close();
    await demo?.stop();
    rmSync(sessions, { recursive: true, force: true });
  });

  /** A device: a browser context of its own, so a cookie jar of its own. */
  async function device(): Promise<Page> {
    const context = await browser.newContext();
    context.setDefaultTimeout(WAIT_MS);
    context.setDefaultNavigationTimeout(WAIT_MS);
    return await context.newPage();
  }

  async function logIn(page: Page, name: string) {
    await page.goto(demo.url);
    await page.fill('input[name="username"]', name);
    await submitForm(page, "Log in");
  }

  async function userOn(page: Page) {
    await page.goto(demo.url);
    const user = page.locator("#user");
    return await user.count() === 0 ? undefined : await user.innerText();
  }

  /** The rows of the sessions table: created, last seen, marker. */
  async function listed(page: Page) {
    await page.goto(new URL("sessions", demo.url).href);
    return await page.locator("#sessions tbody tr").evaluateAll((rows) =>
      rows.map((row) =>
        [...row.querySelectorAll("td")].map((cell) => cell.textContent!.trim())
      )
    );
  }

  it("lists the user's sessions, and the first device logs out the second while staying logged in", async () => {
    const laptop = await device();
    const phone = await device();
    const other = await device();
    await logIn(laptop, "Ada");
    await logIn(phone, "Ada");
    await logIn(other, "Grace");

    const rows = await listed(laptop);
    assert.equal(rows.length, 2, "Ada has two sessions");
    const marked = rows.filter(([, , marker]) => marker === "this session");
    assert.equal(marked.length, 1, "exactly one row is marked as this one");
    for (const [created, lastSeen] of rows) {
      for (const time of [created, lastSeen]) {
        const age = Date.now() - Date.parse(time);
        assert.ok(age >= -5_000 && age < 120_000, `a recent time, got ${time}`);
      }
    }
    const page = await laptop.content();
    for (const cookie of await laptop.context().cookies()) {
      assert.ok(
        !page.includes(cookie.value.split(".")[0]),
        "the page never shows a session id",
      );
    }

    await submitForm(laptop, "Log out other sessions");
    assert.equal(
      await laptop.locator("#flash").innerText(),
      "Logged out 1 other session.",
    );
    assert.deepEqual(
      (await listed(laptop)).map(([, , marker]) => marker),
      ["this session"],
    );

    assert.equal(await userOn(phone), undefined, "the phone is logged out");
    assert.equal(await userOn(laptop), "Ada", "the laptop stays logged in");
    assert.equal(await userOn(other), "Grace", "another user is untouched");
    assert.equal((await listed(phone)).length, 0, "no list when logged out");
  });

  it("logs out one other session from its row, and the rest stay logged in", async () => {
    const laptop = await device();
    const phone = await device();
    const tablet = await device();
    for (const page of [laptop, phone, tablet]) await logIn(page, "Lin");

    // Oldest first: the laptop's own row, then the phone's, then the
    // tablet's; the first button in the table is the phone's.
    const rows = await listed(laptop);
    assert.deepEqual(rows.map(([, , marker]) => marker), [
      "this session",
      "Log out",
      "Log out",
    ]);
    await submitForm(laptop, "Log out");
    assert.equal(
      await laptop.locator("#flash").innerText(),
      "Logged out that session.",
    );
    assert.equal((await listed(laptop)).length, 2);
    assert.equal(await userOn(phone), undefined, "the phone is logged out");
    assert.equal(await userOn(tablet), "Lin", "the tablet stays logged in");
    assert.equal(await userOn(laptop), "Lin", "the laptop stays logged in");
  });
});
