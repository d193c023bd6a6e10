// Headless Chromium for the browser tests: Debian's chromium package
// (/usr/bin/chromium) driven through playwright-core, every wait bounded.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** The bound of every wait of a page, a navigation or the browser's start. */
export const WAIT_MS = 30_000;

/** Debian's chromium package. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, sandbox off (as root), no traffic of its own. */
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

/**
 * Starts Chromium on the profile folder `profile`, which the caller creates
 * fresh so that no cookie of an earlier run leaks in, with `flags` added to
 * the usual ones.
 */
export async function launchChromium(
  profile: string,
  flags: readonly string[] = [],
): Promise<BrowserContext> {
  // Playwright takes the profile folder as an argument rather than as a
  // --user-data-dir flag.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_FLAGS, ...flags],
    headless: true,
    timeout: WAIT_MS,
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return context;
}

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

/** A fetch handler served on loopback, and a Chromium to browse it. */
export interface BrowsedServer {
  /** The server's origin, `http://127.0.0.1:<port>`. */
  url: string;
  context: BrowserContext;
  page: Page;
  /** Closes the browser and the server, and deletes the profile. */
  close(): Promise<void>;
}

/**
 * Serves `fetch` on 127.0.0.1 through @hono/node-server (under Node), and
 * starts Chromium on a fresh profile, so that no cookie of an earlier run
 * leaks in.
 */
export async function browseServer(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<BrowsedServer> {
  const profile = mkdtempSync(join(tmpdir(), "chromium-profile-"));
  const server = await new Promise<ServerType>((resolve) => {
    const started: ServerType = serve(
      { fetch, port: 0, hostname: "127.0.0.1" },
      () => resolve(started),
    );
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const removeServerAndProfile = async () => {
    await new Promise<void>((resolve) => {
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
    });
    rmSync(profile, { recursive: true, force: true });
  };
  let context: BrowserContext;
  try {
    context = await launchChromium(profile);
  } catch (error) {
    await removeServerAndProfile();
    throw error;
  }
  const page = context.pages()[0] ?? await context.newPage();
  return {
    url,
    context,
    page,
    async close() {
      await context.close();
      await removeServerAndProfile();
    },
  };
}
