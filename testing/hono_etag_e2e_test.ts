// check: runtimes node26; needs chromium

// End-to-end test of Hono's etag() with the session middleware: does a
// browser take the session cookie from a 304, and does it lose it when
// etag() runs outside the session middleware? A Hono app with a cookie store
// served by Node through @hono/node-server, driven by headless Chromium
// through playwright-core. Runs under Node 26:
//
//   node_modules/.bin/node --test testing/hono_etag_e2e_test.ts
//
// Needs Debian's chromium package at /usr/bin/chromium.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { etag } from "hono/etag";
import { type SessionEnv, sessionMiddleware } from "../hono.ts";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { type BrowsedServer, browseServer } from "./chromium.ts";

/** A response the server sent. */
interface Status {
  path: string;
  status: number;
}

/**
 * The same pages under `/inside/` (the session middleware registered first,
 * etag() inside it) and `/outside/` (etag() first), each with its own
 * session cookie: `save` flashes a notice and redirects home, `home` shows
 * the notice once. Pages are revalidated on every visit (`no-cache`).
 */
function appOf(statuses: Status[]): Hono<SessionEnv> {
  const app = new Hono<SessionEnv>();
  const sessions = (name: string) => ({
    cookie: createCookie(name, {
      secrets: ["a secret for the hono etag browser test, 32 bytes+"],
    }),
    storage: createCookieSessionStorage(),
  });
  app.use(async (c, next) => {
    await next();
    statuses.push({ path: c.req.path, status: c.res.status });
  });
  app.use("/inside/*", sessionMiddleware(sessions("inside")));
  app.use("/inside/*", etag());
  app.use("/outside/*", etag());
  app.use("/outside/*", sessionMiddleware(sessions("outside")));
  app.get("/:arrangement/save", (c) => {
    c.var.session.flash("notice", "Saved");
    return c.redirect(`/${c.req.param("arrangement")}/home`, 303);
  });
  app.get("/:arrangement/home", (c) => {
    const notice = c.var.session.get("notice");
    c.header("Cache-Control", "private, no-cache");
    return c.html(`<p id="page">Home${notice ? `: ${notice}` : ""}</p>`);
  });
  return app;
}

describe(
  "hono etag() and session cookies in Chromium",
  { timeout: 120_000 },
  () => {
    const statuses: Status[] = [];
    let browsed: BrowsedServer;
    before(async () => {
      browsed = await browseServer(appOf(statuses).fetch);
    });
    after(() => browsed?.close());

    /**
     * Saves twice, visiting home after each save, then visits home again.
     * Returns the pages shown and the statuses the server sent for home.
     */
    async function saveTwiceThenVisit(arrangement: string) {
      const shown: string[] = [];
      statuses.length = 0;
      for (const path of ["save", "save", "home"]) {
        await browsed.page.goto(`${browsed.url}/${arrangement}/${path}`);
        shown.push(await browsed.page.locator("#page").innerText());
      }
      const home = statuses.filter((s) => s.path === `/${arrangement}/home`)
        .map((s) => s.status);
      return { shown, home };
    }

    it("takes the session cookie from etag's 304 when the session middleware is outside etag()", async () => {
      const { shown, home } = await saveTwiceThenVisit("inside");
      assert.deepEqual(home, [200, 304, 200]);
      assert.deepEqual(shown, ["Home: Saved", "Home: Saved", "Home"]);
    });

    it("shows a consumed flash again when etag() is outside the session middleware", async () => {
      const { shown, home } = await saveTwiceThenVisit("outside");
      assert.deepEqual(home, [200, 304, 304]);
      assert.deepEqual(shown, ["Home: Saved", "Home: Saved", "Home: Saved"]);
    });
  },
);
