// Test helper for the browser tests: where Chromium is, the flags it runs
// with, how long a wait may take, and submitting a form.

import assert from "node:assert/strict";
import type { Page } from "playwright-core";

/** Debian's chromium package. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, sandbox off (as root in a container), no traffic of its own. */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Every wait of a page, a navigation or the browser's start is bounded. */
export const WAIT_MS = 30_000;

/**
 * Clicks a form's button on `page` and waits for the page the redirect
 * leads to, which must answer 200.
 */
export async function submitForm(page: Page, button: string): Promise<void> {
  // The page may be at the same URL before and after, so wait for the GET
  // that the form's POST was redirected to, then for it to load.
  const redirected = page.waitForResponse((response) =>
    response.request().method() === "GET" &&
    response.request().redirectedFrom()?.method() === "POST"
  );
  await page.click(`button:has-text("${button}")`);
  assert.equal((await redirected).status(), 200);
  await page.waitForLoadState("load");
}
