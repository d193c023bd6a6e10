// check: runtimes deno bun node26
// react-router 8 needs Node 22 or later.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createSession as createReactRouterSession,
  createStaticHandler,
  data,
  isSession,
  redirect,
  type SessionStorage as ReactRouterStorage,
} from "react-router";
import { createReactRouterSessionStorage } from "./react_router.ts";
import { createCookie } from "./cookie.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import type { SessionStorage } from "./session.ts";

const SECRET = "a test secret that is at least 32 bytes long";

function sessionsWith(storage: SessionStorage = createMemorySessionStorage()) {
  return createReactRouterSessionStorage<
    { user: string },
    { message: string }
  >({
    cookie: createCookie("sid", { secrets: [SECRET] }),
    storage,
  });
}

/** The `name=value` pair of a Set-Cookie header, as a client sends it back. */
function pairOf(setCookie: string | null | undefined): string {
  assert.ok(setCookie, "a Set-Cookie header");
  return setCookie.split(";")[0];
}

describe("react-router", () => {
  it("react-router: its isSession accepts our sessions, and its SessionStorage type fits", async () => {
    const sessions: ReactRouterStorage = createReactRouterSessionStorage({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createMemorySessionStorage(),
    });
    const session = await sessions.getSession();
    assert.ok(isSession(session));
    session.set("user", "mj");
    const cookie = pairOf(await sessions.commitSession(session));
    assert.equal((await sessions.getSession(cookie)).get("user"), "mj");
  });

  it("react-router: a login action, then loaders, through createStaticHandler", async () => {
    const { getSession, commitSession, destroySession } = sessionsWith();
    const handler = createStaticHandler([{
      id: "root",
      path: "/",
      async loader({ request }) {
        const session = await getSession(request.headers.get("Cookie"));
        return data({
          user: session.get("user") ?? null,
          message: session.get("message") ?? null,
        }, { headers: { "Set-Cookie": await commitSession(session) } });
      },
    }, {
      path: "/login",
      async action({ request }) {
        const session = await getSession(request.headers.get("Cookie"));
        session.regenerateId(true);
        session.set("user", "mj");
        session.flash("message", "Welcome back");
        return redirect("/", {
          headers: { "Set-Cookie": await commitSession(session) },
        });
      },
    }, {
      path: "/logout",
      async action({ request }) {
        const session = await getSession(request.headers.get("Cookie"));
        return redirect("/", {
          headers: { "Set-Cookie": await destroySession(session) },
        });
      },
    }]);
    const post = (path: string, cookie = "") =>
      handler.query(
        new Request(`http://localhost${path}`, {
          method: "POST",
          body: new FormData(),
          headers: { Cookie: cookie },
        }),
      );
    const home = async (cookie: string) => {
      const context = await handler.query(
        new Request("http://localhost/", { headers: { Cookie: cookie } }),
      );
      assert.ok(!(context instanceof Response), "the loader ran");
      return context.loaderData.root;
    };

    const login = await post("/login");
    assert.ok(login instanceof Response);
    assert.equal(login.status, 302);
    const cookie = pairOf(login.headers.get("Set-Cookie"));
    assert.deepEqual(await home(cookie), {
      user: "mj",
      message: "Welcome back",
    });
    assert.deepEqual(await home(cookie), { user: "mj", message: null });

    const logout = await post("/logout", cookie);
    assert.ok(logout instanceof Response);
    assert.match(logout.headers.get("Set-Cookie")!, /; Max-Age=0;/);
    assert.deepEqual(await home(cookie), { user: null, message: null });
  });

  it("react-router: commitSession of an unchanged session returns '' alone, and its cookie again when given a maxAge or expires", async () => {
    const { getSession, commitSession } = sessionsWith();
    const session = await getSession(null);
    session.set("user", "mj");
    const login = await commitSession(session, { maxAge: 60 });
    assert.match(login, /; Max-Age=60;/);
    const cookie = pairOf(login);

    assert.equal(await commitSession(await getSession(cookie)), "");
    const remembered = await commitSession(await getSession(cookie), {
      maxAge: 60 * 60 * 24 * 30,
    });
    assert.match(remembered, /; Max-Age=2592000;/);
    assert.equal(pairOf(remembered), cookie);
    const until = new Date("2030-01-01T00:00:00Z");
    const dated = await commitSession(await getSession(cookie), {
      expires: until,
    });
    assert.match(dated, /; Expires=Tue, 01 Jan 2030 00:00:00 GMT;/);
    assert.equal(pairOf(dated), cookie);
  });

  it("react-router: commitSession with a maxAge sends no cookie for a session that never existed or ended meanwhile", async () => {
    const { getSession, commitSession, destroySession } = sessionsWith();
    assert.equal(
      await commitSession(await getSession(null), { maxAge: 60 }),
      "",
    );
    const session = await getSession(null);
    session.set("user", "mj");
    const cookie = pairOf(await commitSession(session));

    const loader = await getSession(cookie);
    await destroySession(await getSession(cookie)); // a logout meanwhile
    assert.equal(await commitSession(loader, { maxAge: 60 }), "");
    const later = await getSession(cookie);
    assert.equal(await commitSession(later, { maxAge: 60 }), "");
  });

  it("react-router: destroySession of an untouched session clears the cookie, with the domain given and Max-Age=0 over the maxAge given", async () => {
    const { getSession, destroySession } = sessionsWith();
    const header = await destroySession(await getSession(null), {
      domain: "example.com",
      maxAge: 60,
    });
    assert.match(header, /^sid=[^;]*; Max-Age=0; Domain=example\.com;/);
  });

  it("react-router: the cookie store works behind it too", async () => {
    const { getSession, commitSession } = sessionsWith(
      createCookieSessionStorage(),
    );
    const session = await getSession(null);
    session.set("user", "ada");
    const cookie = pairOf(await commitSession(session));
    assert.equal((await getSession(cookie)).get("user"), "ada");
    const again = await commitSession(await getSession(cookie), { maxAge: 60 });
    assert.equal(pairOf(again), cookie);
  });

  it("react-router: a chunked cookie, whose several Set-Cookie headers one string cannot carry, is refused at creation", () => {
    assert.throws(
      () =>
        createReactRouterSessionStorage({
          cookie: createCookie("sid", { secrets: [SECRET], chunked: true }),
          storage: createCookieSessionStorage(),
        }),
      /^TypeError: createReactRouterSessionStorage: option "cookie" is the chunked cookie "sid"/,
    );
  });

  it("react-router: a session it did not read is refused with a clear error", async () => {
    const { commitSession } = sessionsWith();
    await assert.rejects(
      commitSession(createReactRouterSession()),
      /^TypeError: commitSession: argument "session" must be a session from this storage's getSession\(\)/,
    );
  });
});
