// check: runtimes node26; needs chromium

// End-to-end test of chunked session cookies: a cookie-store session served
// by Node through @hono/node-server (so Node's default 16 KiB limit on
// request headers applies), driven by headless Chromium through
// playwright-core. Runs under Node 26:
//
//   node_modules/.bin/node --test testing/chunked_cookie_e2e_test.ts
//
// Needs Debian's chromium package at /usr/bin/chromium.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type {
  BrowserContext,
  Cookie as JarCookie,
  Page,
} from "playwright-core";
import { withSession } from "../middleware.ts";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { type BrowsedServer, browseServer } from "./chromium.ts";
// Characters of session data that make about 12 kB and 1 kB of cookies.
const LARGE = 8_900;
const SMALL = 700;

/**
 * The app: `/` shows the visit count and the size of the session's data,
 * `/set?bytes=N&fill=c` sets N characters c of data, `/logout` destroys the
 * session.
 */
const handler = withSession({
  cookie: createCookie("sid", {
    secrets: ["a secret for the chunked cookie browser test, 32 bytes+"],
    chunked: { maxBytes: 13 * 1024 },
  }),
  storage: createCookieSessionStorage(),
}, (request, session) => {
  const url = new URL(request.url);
  if (url.pathname === "/logout") {
    session.destroy();
    return new Response("logged out");
  }
  if (url.pathname === "/favicon.ico") {
    return new Response(null, { status: 404 });
  }
  const bytes = url.searchParams.get("bytes");
  const fill = url.searchParams.get("fill") ?? "d";
  if (bytes !== null) session.set("data", fill.repeat(Number(bytes)));
  const visits = Number(session.get("visits") ?? 0) + 1;
  session.set("visits", visits);
  const size = String(session.get("data") ?? "").length;
  return new Response(
    `<!doctype html><p id="visits">${visits}</p><p id="size">${size}</p>`,
    { headers: { "Content-Type": "text/html; charset=utf-8" } },
  );
});

describe("chunked session cookies in Chromium", { timeout: 180_000 }, () => {
  let url: string;
  let context: BrowserContext;
  let page: Page;
  let browsed: BrowsedServer;

  before(async () => {
    browsed = await browseServer(handler);
    ({ url, context, page } = browsed);
  });

  after(() => browsed?.close());

  async function open(path: string) {
    const response = await page.goto(url + path);
    assert.equal(response?.status(), 200);
    return {
      visits: Number(await page.locator("#visits").innerText()),
      size: Number(await page.locator("#size").innerText()),
    };
  }

  /** The session's cookies in the browser's jar, head first. */
  async function chunks(): Promise<JarCookie[]> {
    const jar = await context.cookies(url);
    return jar.filter((c) => /^sid(\.\d+)?$/.test(c.name))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  function bytesOf(cookies: JarCookie[]): number {
    return cookies.reduce((sum, c) => sum + c.name.length + c.value.length, 0);
  }

  /** Puts exactly `cookies` in the jar as the session's cookies. */
  async function replaceChunks(cookies: JarCookie[]) {
    await context.clearCookies();
    await context.addCookies(cookies);
  }

  async function growNewSession(fill = "d"): Promise<JarCookie[]> {
    await context.clearCookies();
    assert.deepEqual(await open(`/set?bytes=${LARGE}&fill=${fill}`), {
      visits: 1,
      size: LARGE,
    });
    return await chunks();
  }

  it("keeps a session of 12 kB of cookies across reloads, shrinks it to 1 kB with the stale chunks gone, and removes it all on logout", async () => {
    assert.deepEqual(await open("/"), { visits: 1, size: 0 });
    assert.deepEqual(await open(`/set?bytes=${LARGE}`), {
      visits: 2,
      size: LARGE,
    });
    const grown = await chunks();
    assert.deepEqual(grown.map((c) => c.name), ["sid", "sid.1", "sid.2"]);
    const grownBytes = bytesOf(grown);
    console.log(`grown: ${grown.length} cookies, ${grownBytes} bytes`);
    assert.ok(grownBytes > 11_500 && grownBytes < 13 * 1024, `${grownBytes}`);
    for (const c of grown) {
      assert.equal(c.httpOnly, true);
      assert.equal(c.sameSite, "Lax");
      assert.equal(c.path, "/");
    }

    await page.reload();
    assert.equal(Number(await page.locator("#visits").innerText()), 3);
    assert.equal(Number(await page.locator("#size").innerText()), LARGE);
    assert.deepEqual(await open("/"), { visits: 4, size: LARGE });

    assert.deepEqual(await open(`/set?bytes=${SMALL}`), {
      visits: 5,
      size: SMALL,
    });
    const shrunk = await chunks();
    assert.deepEqual(shrunk.map((c) => c.name), ["sid"]);
    const shrunkBytes = bytesOf(shrunk);
    console.log(`shrunk: ${shrunk.length} cookie, ${shrunkBytes} bytes`);
    // About 1 kB: the value, plus the record's id and its expiry, creation
    // and write times.
    assert.ok(shrunkBytes > 900 && shrunkBytes < 1200, `${shrunkBytes}`);
    await page.reload();
    assert.equal(Number(await page.locator("#visits").innerText()), 6);
    assert.equal(Number(await page.locator("#size").innerText()), SMALL);

    assert.deepEqual(await open(`/set?bytes=${LARGE}`), {
      visits: 7,
      size: LARGE,
    });
    assert.equal((await chunks()).length, 3);
    const logout = await page.goto(url + "/logout");
    assert.equal(await logout?.text(), "logged out");
    assert.deepEqual(await chunks(), [], "no chunk left in the jar");
    assert.deepEqual(await open("/"), { visits: 1, size: 0 });
  });

  it("reads a set with a chunk swapped in from another session as a new session", async () => {
    const mine = await growNewSession("m");
    const theirs = await growNewSession("t");
    assert.equal(mine.length, 3);
    assert.equal(theirs.length, 3);
    assert.ok(mine[1].value !== theirs[1].value, "the sessions differ");
    await replaceChunks(mine);
    assert.deepEqual(await open("/"), { visits: 2, size: LARGE }, "intact");
    await replaceChunks([mine[0], theirs[1], mine[2]]);
    assert.deepEqual(await open("/"), { visits: 1, size: 0 });
  });

  it("reads a set with a chunk missing as a new session", async () => {
    const mine = await growNewSession();
    await replaceChunks([mine[0], mine[2]]);
    assert.deepEqual(await open("/"), { visits: 1, size: 0 });
  });

  it("reads a set with two chunks in each other's place as a new session", async () => {
    const mine = await growNewSession();
    await replaceChunks([
      mine[0],
      { ...mine[1], value: mine[2].value },
      { ...mine[2], value: mine[1].value },
    ]);
    assert.deepEqual(await open("/"), { visits: 1, size: 0 });
  });
});
