// Headless Chromium for the browser tests: Debian's chromium package
// (/usr/bin/chromium) driven through playwright-core, every wait bounded.

import { type BrowserContext, chromium } from "playwright-core";

/** The bound of every wait of a page, a navigation or the browser's start. */
export const WAIT_MS = 30_000;

const FLAGS = [
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
    executablePath: "/usr/bin/chromium",
    args: [...FLAGS, ...flags],
    headless: true,
    timeout: WAIT_MS,
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  return context;
}
