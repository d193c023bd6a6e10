// deno-lint-ignore-file prefer-const
// The examples of the reference README (@remix-run/session 0.4.1), each
// with only its import changed to this module. Users port code from there.

import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";

describe("reference README", () => {
  it("reference README: the counter persists across requests", async () => {
    let storage = createCookieSessionStorage();

    async function handleRequest(cookie: string | null) {
      let session = await storage.read(cookie);
      session.set("count", Number(session.get("count") ?? 0) + 1);
      return {
        session, // The session data from this "request"
        cookie: await storage.save(session), // The cookie to use on the next request
      };
    }

    let response1 = await handleRequest(null);
    assert.equal(response1.session.get("count"), 1);

    let response2 = await handleRequest(response1.cookie);
    assert.equal(response2.session.get("count"), 2);

    let response3 = await handleRequest(response2.cookie);
    assert.equal(response3.session.get("count"), 3);
  });

  for (
    const [name, create] of [
      ["cookie", () => createCookieSessionStorage()],
      ["memory", () => createMemorySessionStorage()],
      ["fs", () => createFsSessionStorage("/tmp/sessions")],
    ] as const
  ) {
    it(`reference README: flash messages last exactly one request (${name} store)`, async () => {
      let storage = create();

      async function requestIndex(cookie: string | null) {
        let session = await storage.read(cookie);
        return { session, cookie: await storage.save(session) };
      }

      async function requestSubmit(cookie: string | null) {
        let session = await storage.read(cookie);
        session.flash("message", "success!");
        return { session, cookie: await storage.save(session) };
      }

      // Flash data is undefined on the first request
      let response1 = await requestIndex(null);
      assert.equal(response1.session.get("message"), undefined);

      // Flash data is undefined on the same request it is set. This response
      // is typically a redirect to a route that displays the flash data.
      let response2 = await requestSubmit(response1.cookie);
      assert.equal(response2.session.get("message"), undefined);

      // Flash data is available on the next request
      let response3 = await requestIndex(response2.cookie);
      assert.equal(response3.session.get("message"), "success!");

      // Flash data is not available on subsequent requests
      let response4 = await requestIndex(response3.cookie);
      assert.equal(response4.session.get("message"), undefined);
    });
  }

  it("reference README: regenerating the id at login keeps the session", async () => {
    let sessionStorage = createFsSessionStorage("/tmp/sessions");

    async function requestIndex(cookie: string | null) {
      let session = await sessionStorage.read(cookie);
      return { session, cookie: await sessionStorage.save(session) };
    }

    async function requestLogin(cookie: string | null) {
      let session = await sessionStorage.read(cookie);
      session.set("userId", "mj");
      session.regenerateId();
      return { session, cookie: await sessionStorage.save(session) };
    }

    let response1 = await requestIndex(null);
    assert.equal(response1.session.get("userId"), undefined);

    let response2 = await requestLogin(response1.cookie);
    assert.notEqual(response2.session.id, response1.session.id);

    let response3 = await requestIndex(response2.cookie);
    assert.equal(response3.session.get("userId"), "mj");
  });

  it("reference README: destroy clears the data and the client's cookie", async () => {
    let sessionStorage = createMemorySessionStorage();
    let session = await sessionStorage.read(null);
    session.set("userId", "mj");
    let cookie = await sessionStorage.save(session);

    let loggedIn = await sessionStorage.read(cookie);
    loggedIn.destroy();
    assert.equal(await sessionStorage.save(loggedIn), "");
    assert.equal((await sessionStorage.read(cookie)).get("userId"), undefined);
  });

  it("reference README: the storage constructors of every strategy", () => {
    let fsStorage = createFsSessionStorage("/tmp/sessions");
    let cookieStorage = createCookieSessionStorage();
    let memoryStorage = createMemorySessionStorage();
    for (const storage of [fsStorage, cookieStorage, memoryStorage]) {
      assert.equal(typeof storage.read, "function");
      assert.equal(typeof storage.save, "function");
    }
  });
});
