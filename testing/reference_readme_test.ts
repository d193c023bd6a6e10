// deno-lint-ignore-file prefer-const
// The examples of the reference README (@remix-run/session 0.4.1), each
// with only its import changed to this module. Users port code from there.

import { describe, it } from "node:test";
import * as assert from "node:assert/strict";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";

// The README's three storage strategies, as each example creates them.
const STRATEGIES = [
  ["cookie", () => createCookieSessionStorage()],
  ["memory", () => createMemorySessionStorage()],
  ["fs", () => createFsSessionStorage("/tmp/sessions")],
] as const;

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

  for (const [name, create] of STRATEGIES) {
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

  for (const deleteOld of [false, true]) {
    it(
      `reference README: login with regenerateId(${deleteOld}) moves an earlier session to a new id, and ${
        deleteOld ? "deletes the old data" : "keeps the old id for a retry"
      }`,
      async () => {
        // The example above logs in from a visit that saved nothing, so its
        // login starts a fresh session. Here the visitor has a session first.
        let sessionStorage = createFsSessionStorage("/tmp/sessions");
        let visit = await sessionStorage.read(null);
        visit.set("theme", "dark");
        let visitCookie = await sessionStorage.save(visit);

        let login = await sessionStorage.read(visitCookie);
        login.set("userId", "mj");
        login.regenerateId(deleteOld);
        let loginCookie = await sessionStorage.save(login);
        assert.equal(loginCookie, login.id);
        assert.notEqual(loginCookie, visitCookie);

        let after = await sessionStorage.read(loginCookie);
        assert.equal(after.get("userId"), "mj");
        assert.equal(after.get("theme"), "dark");

        // "mobile clients on flaky connections ... may need to resume the
        // session using an old session ID", unless regenerateId(true)
        // deleted "the old session data when the session is saved".
        let retry = await sessionStorage.read(visitCookie);
        assert.equal(retry.id === visit.id, !deleteOld);
        assert.equal(retry.get("theme"), deleteOld ? undefined : "dark");
        assert.equal(retry.get("userId"), undefined);
      },
    );
  }

  for (const [name, create] of STRATEGIES) {
    it(`reference README: destroy clears the data and the client's cookie (${name} store)`, async () => {
      let sessionStorage = create();
      let session = await sessionStorage.read(null);
      session.set("userId", "mj");
      let cookie = await sessionStorage.save(session);

      let loggedIn = await sessionStorage.read(cookie);
      assert.equal(loggedIn.get("userId"), "mj");
      loggedIn.destroy();
      // "It also clears the session ID on the client in the next response"
      let cleared = await sessionStorage.save(loggedIn);
      assert.equal(cleared, "");
      // "so it will start with a new session on the next request"
      let next = await sessionStorage.read(cleared);
      assert.notEqual(next.id, loggedIn.id);
      assert.equal(next.get("userId"), undefined);
      if (name !== "cookie") {
        // "This will clear all session data from storage": a client that
        // kept the old cookie finds nothing either. (The cookie store's
        // storage is the cookie that was cleared.)
        let replayed = await sessionStorage.read(cookie);
        assert.notEqual(replayed.id, loggedIn.id);
        assert.equal(replayed.get("userId"), undefined);
      }
    });
  }

  it("reference README: fs and cookie storage keep sessions across a restart, memory storage loses them", async () => {
    // A "restart" is a second storage object made the same way.
    let strategies = [
      ["fs", () => createFsSessionStorage("/tmp/sessions"), true],
      ["cookie", () => createCookieSessionStorage(), true],
      ["memory", () => createMemorySessionStorage(), false],
    ] as const;
    for (let [name, create, survives] of strategies) {
      let storage = create();
      let session = await storage.read(null);
      session.set("userId", "mj");
      let cookie = await storage.save(session);
      let restarted = await create().read(cookie);
      assert.equal(
        restarted.get("userId"),
        survives ? "mj" : undefined,
        `${name} storage after a restart`,
      );
    }
  });
});
