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

  it("react-router: commitSession takes a maxAge for one response, and returns '' when nothing changed", async () => {
    const { getSession, commitSession } = sessionsWith();
    const session = await getSession(null);
    assert.equal(await commitSession(session), "");
    session.set("user", "mj");
    const header = await commitSession(session, { maxAge: 60 * 60 * 24 * 30 });
    assert.match(header, /^sid=[^;]+; Max-Age=2592000;/);
  });

  it("react-router: the cookie store works behind it too", async () => {
    const { getSession, commitSession } = sessionsWith(
      createCookieSessionStorage(),
    );
    const session = await getSession(null);
    session.set("user", "ada");
    const cookie = pairOf(await commitSession(session));
    assert.equal((await getSession(cookie)).get("user"), "ada");
  });

  it("react-router: a session it did not read is refused with a clear error", async () => {
    const { commitSession } = sessionsWith();
    await assert.rejects(
      commitSession(createReactRouterSession()),
      /^TypeError: commitSession: argument "session" must be a session from this storage's getSession\(\)/,
    );
  });
});
