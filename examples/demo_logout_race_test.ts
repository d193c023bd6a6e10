// check: runtimes deno

// The logout race over HTTP, against the demo on its default fs store: a
// thief holding a copy of the victim's session cookie sends 4 overlapping
// requests while the victim logs out. Each of those requests read the
// session before the logout and saves after it; none may bring it back.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDemo } from "./_demo_server.ts";

const TRIALS = 100;
const THIEF_REQUESTS = 4;
const SECRET = "a secret for the demo logout race test of 32 bytes+";

/** The `sid=...` pair a response sets, if any. */
function sessionPair(response: Response): string | undefined {
  for (const setCookie of response.headers.getSetCookie()) {
    const pair = setCookie.split(";")[0];
    if (pair.startsWith("sid=")) return pair;
  }
  return undefined;
}

async function send(url: URL, cookie: string, method = "GET", body?: string) {
  const response = await fetch(url, {
    method,
    body,
    headers: {
      Cookie: cookie,
      ...body ? { "Content-Type": "application/x-www-form-urlencoded" } : {},
    },
    redirect: "manual",
    signal: AbortSignal.timeout(30_000),
  });
  return { response, text: await response.text() };
}

describe("demo on its fs store", () => {
  it(`demo: a logout is final though a thief's ${THIEF_REQUESTS} overlapping requests carry the cookie, in ${TRIALS} trials`, async () => {
    const folder = mkdtempSync(join(tmpdir(), "x-session-demo-race-"));
    const demo = await startDemo("deno", {
      SESSION_STORE: "fs",
      SESSION_DIR: folder,
      SESSION_SECRET: SECRET,
    });
    try {
      const home = new URL("/", demo.url);
      let loggedIn = 0;
      for (let trial = 0; trial < TRIALS; trial++) {
        const first = await send(home, "");
        const anonymous = sessionPair(first.response)!;
        const login = await send(
          new URL("/login", demo.url),
          anonymous,
          "POST",
          "username=victim",
        );
        const cookie = sessionPair(login.response);
        assert.ok(cookie, "the login sets the session cookie");
        // The thief's requests go out first; the victim's logout overlaps.
        const thief = Array.from(
          { length: THIEF_REQUESTS },
          () => send(home, cookie),
        );
        const logout = await send(new URL("/logout", demo.url), cookie, "POST");
        assert.equal(logout.response.status, 303);
        await Promise.all(thief);
        const after = await send(home, cookie);
        if (after.text.includes('id="user"')) loggedIn++;
      }
      assert.equal(
        loggedIn,
        0,
        `${loggedIn} of ${TRIALS} trials stayed logged in after the logout`,
      );
    } finally {
      await demo.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
