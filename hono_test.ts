import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { etag, RETAINED_304_HEADERS } from "hono/etag";
import { except } from "hono/combine";
import {
  type SessionEnv,
  sessionMiddleware,
  type SessionMiddlewareOptions,
} from "./hono.ts";
import { createCookie } from "./cookie.ts";
import { commitSession, readSession } from "./middleware.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import { nextCookieHeader } from "./testing/cookie_jar.ts";
import { withClock } from "./testing/clock.ts";
import type { Session, SessionStorage } from "./session.ts";

const SECRET = "a test secret that is at least 32 bytes long";

/** A memory storage that records the sessions it saves. */
function recordingStorage() {
  const inner = createMemorySessionStorage();
  const saved: Session[] = [];
  const storage: SessionStorage = {
    read: (cookie) => inner.read(cookie),
    save(session) {
      saved.push(session);
      return inner.save(session);
    },
  };
  return { storage, saved };
}

function appWith(storage: SessionStorage = createMemorySessionStorage()) {
  const app = new Hono<SessionEnv>();
  app.use(sessionMiddleware({
    cookie: createCookie("sid", { secrets: [SECRET] }),
    storage,
  }));
  // Hono's default error handler would print every expected error.
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text("failed", 500)
  );
  app.get("/", (c) => c.text(String(c.var.session.get("user") ?? "nobody")));
  app.post("/login", (c) => {
    c.get("session").regenerateId(true);
    c.get("session").set("user", "mj");
    return c.redirect("/", 303);
  });
  return app;
}

function sessionCookie(response: Response): string | undefined {
  return response.headers.getSetCookie().find((c) => c.startsWith("sid="));
}

/** The `name=value` pair of a Set-Cookie header, as a client sends it back. */
function pairOf(setCookie: string | undefined): string {
  assert.ok(setCookie, "the response sets the session cookie");
  return setCookie.split(";")[0];
}

describe("hono", () => {
  it("hono: a session keeps its values from one request to the next", async () => {
    const app = appWith();
    app.get("/count", (c) => {
      const count = Number(c.var.session.get("count") ?? 0) + 1;
      c.var.session.set("count", count);
      return c.text(String(count));
    });
    const first = await app.request("/count");
    assert.equal(await first.text(), "1");
    const second = await app.request("/count", {
      headers: { Cookie: pairOf(sessionCookie(first)) },
    });
    assert.equal(await second.text(), "2");
  });

  it("hono: a login regenerates the earlier session: its data moves to a new id and the old id is gone", async () => {
    const app = appWith();
    app.get("/count", (c) => {
      const count = Number(c.var.session.get("count") ?? 0) + 1;
      c.var.session.set("count", count);
      return c.text(String(count));
    });
    const before = pairOf(sessionCookie(await app.request("/count")));
    const login = await app.request("/login", {
      method: "POST",
      headers: { Cookie: before },
    });
    const after = pairOf(sessionCookie(login));
    assert.notEqual(after, before, "the login gives the session a new id");
    const counted = await app.request("/count", { headers: { Cookie: after } });
    assert.equal(await counted.text(), "2", "the visits before login are kept");
    const home = await app.request("/", { headers: { Cookie: after } });
    assert.equal(await home.text(), "mj");
    const old = await app.request("/", { headers: { Cookie: before } });
    assert.equal(await old.text(), "nobody", "the pre-login id reads nothing");
  });

  it("hono: a redirect carries the cookie, from c.redirect or Response.redirect", async () => {
    const app = appWith();
    app.post("/immutable", (c) => {
      c.var.session.set("user", "ada");
      return Response.redirect("http://localhost/", 303);
    });
    for (const path of ["/login", "/immutable"]) {
      const login = await app.request(path, { method: "POST" });
      assert.equal(login.status, 303, path);
      const home = await app.request("/", {
        headers: { Cookie: pairOf(sessionCookie(login)) },
      });
      assert.match(await home.text(), /^(mj|ada)$/, path);
    }
  });

  it("hono: a throwing handler sends no cookie and saves nothing", async () => {
    const { storage, saved } = recordingStorage();
    const app = appWith(storage);
    app.post("/escalate", (c) => {
      c.var.session.set("user", "admin");
      throw new Error("the permission check failed after the change");
    });
    const login = await app.request("/login", { method: "POST" });
    const cookie = pairOf(sessionCookie(login));
    saved.length = 0;

    const failed = await app.request("/escalate", {
      method: "POST",
      headers: { Cookie: cookie },
    });
    assert.equal(failed.status, 500);
    assert.equal(sessionCookie(failed), undefined);
    assert.equal(saved.length, 0);
    const home = await app.request("/", { headers: { Cookie: cookie } });
    assert.equal(await home.text(), "mj");
  });

  it("hono: an HTTPException from the handler saves nothing either", async () => {
    const { storage, saved } = recordingStorage();
    const app = appWith(storage);
    app.get("/forbidden", (c) => {
      c.var.session.set("user", "admin");
      throw new HTTPException(403, { message: "no" });
    });
    const response = await app.request("/forbidden");
    assert.equal(response.status, 403);
    assert.equal(sessionCookie(response), undefined);
    assert.equal(saved.length, 0);
  });

  it("hono: the handler's own cookies are kept, and its session cookie wins", async () => {
    const app = appWith();
    app.get("/theme", (c) => {
      c.var.session.set("theme", "dark");
      c.header("Set-Cookie", "theme=dark; Path=/", { append: true });
      return c.text("ok");
    });
    app.get("/own", (c) => {
      c.var.session.set("theme", "light");
      c.header("Set-Cookie", "sid=handler-chosen; Path=/");
      return c.text("ok");
    });
    const theme = await app.request("/theme");
    const cookies = theme.headers.getSetCookie();
    assert.equal(cookies.length, 2);
    assert.ok(cookies.includes("theme=dark; Path=/"));
    assert.ok(sessionCookie(theme));
    const own = await app.request("/own");
    assert.deepEqual(own.headers.getSetCookie(), [
      "sid=handler-chosen; Path=/",
    ]);
  });

  it("hono: a handler that commits a second session of the request onto its response fails where the two cookies differ, instead of dropping one", async () => {
    for (
      const storage of [
        createMemorySessionStorage(),
        createCookieSessionStorage(),
      ]
    ) {
      const options = {
        cookie: createCookie("sid", { secrets: [SECRET] }),
        storage,
      };
      const app = new Hono<SessionEnv>();
      const errors: Error[] = [];
      app.onError((error, c) => {
        errors.push(error);
        return c.text("failed", 500);
      });
      app.use(sessionMiddleware(options));
      app.post("/login", async (c) => {
        c.var.session.regenerateId(true);
        c.var.session.set("user", "mj");
        // An auth helper that reads the session again and commits it.
        const again = await readSession(c.req.raw, options);
        again.set("seen", true);
        return await commitSession(again, c.text("ok"), options);
      });
      app.post("/visit", (c) => {
        c.var.session.set("visits", 1);
        return c.text("ok");
      });
      const visit = await app.request("/visit", { method: "POST" });
      const login = await app.request("/login", {
        method: "POST",
        headers: { Cookie: pairOf(sessionCookie(visit)) },
      });
      assert.equal(login.status, 500);
      assert.match(errors[0]?.message, /another Session object/);
    }
  });

  it("hono: a session the handler committed by hand and changed afterwards sends the cookie of its last save", async () => {
    const options = {
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createCookieSessionStorage(),
    };
    const app = new Hono<SessionEnv>();
    app.use(sessionMiddleware(options));
    app.get("/", async (c) => {
      c.var.session.set("step", 1);
      const response = await commitSession(
        c.var.session,
        c.text("ok"),
        options,
      );
      c.var.session.set("step", 2);
      return response;
    });
    const response = await app.request("/");
    const [only, ...rest] = response.headers.getSetCookie();
    assert.deepEqual(rest, []);
    const next = await readSession(
      new Request("http://localhost/", { headers: { Cookie: pairOf(only) } }),
      options,
    );
    assert.equal(next.get("step"), 2);
  });

  it("hono: a destroyed session clears the cookie", async () => {
    const app = appWith();
    app.post("/logout", (c) => {
      c.var.session.destroy();
      return c.body(null, 204);
    });
    const login = await app.request("/login", { method: "POST" });
    const logout = await app.request("/logout", {
      method: "POST",
      headers: { Cookie: pairOf(sessionCookie(login)) },
    });
    assert.match(sessionCookie(logout) ?? "", /^sid=[^;]*; Max-Age=0;/);
  });

  it("hono: an unchanged session sends no cookie", async () => {
    const response = await appWith().request("/");
    assert.equal(await response.text(), "nobody");
    assert.equal(sessionCookie(response), undefined);
  });

  it("hono: a response that sets the session cookie is kept from shared caches, the handler's Cache-Control kept", async () => {
    const app = appWith();
    app.post("/public", (c) => {
      c.var.session.set("user", "ada");
      c.header("Cache-Control", "public, max-age=60");
      return c.text("ada");
    });
    app.post("/immutable", (c) => {
      c.var.session.set("user", "ada");
      return Response.redirect("http://localhost/", 303);
    });
    const expected = {
      "/login": "private",
      "/immutable": "private",
      "/public": 'public, max-age=60, private="Set-Cookie"',
    };
    for (const [path, cacheControl] of Object.entries(expected)) {
      const response = await app.request(path, { method: "POST" });
      assert.ok(sessionCookie(response), path);
      assert.equal(response.headers.get("Cache-Control"), cacheControl, path);
    }
    const unchanged = await app.request("/");
    assert.equal(unchanged.headers.get("Cache-Control"), null);
  });

  it("hono: a chunked cookie's session goes out in several cookies, and the stale ones are expired when it shrinks", async () => {
    const app = new Hono<SessionEnv>();
    app.use(sessionMiddleware({
      cookie: createCookie("sid", {
        secrets: [SECRET],
        chunked: { maxBytes: 16 * 1024 },
      }),
      storage: createCookieSessionStorage(),
    }));
    app.get("/set/:bytes", (c) => {
      c.var.session.set("data", "d".repeat(Number(c.req.param("bytes"))));
      return c.text("set");
    });
    app.get("/", (c) => c.text(String(c.var.session.get("data")).length + ""));

    const grown = await app.request("/set/8500");
    const names = (setCookies: string[]) =>
      setCookies.map((h) => h.slice(0, h.indexOf("=")));
    assert.deepEqual(names(grown.headers.getSetCookie()), [
      "sid",
      "sid.1",
      "sid.2",
    ]);
    let jar = nextCookieHeader(null, grown.headers.getSetCookie())!;
    assert.equal(
      await (await app.request("/", { headers: { Cookie: jar } })).text(),
      "8500",
    );

    const shrunk = await app.request("/set/10", { headers: { Cookie: jar } });
    jar = nextCookieHeader(jar, shrunk.headers.getSetCookie())!;
    assert.deepEqual(names(jar.split("; ")), ["sid"]);
    assert.equal(
      await (await app.request("/", { headers: { Cookie: jar } })).text(),
      "10",
    );
  });

  it("hono: etag() outside the session middleware makes 304s without the session cookie: a consumed flash shows again, a regenerated id and a renewed ttl are lost", async () => {
    const outside = (app: SessionApp, sessions: SessionMiddlewareOptions) => {
      app.use(etag());
      app.use(sessionMiddleware(sessions));
    };
    assert.deepEqual(await afterEtag304s(outside), [
      "Home: Saved",
      "nobody",
      "nobody",
    ]);
  });

  it("hono: etag() outside the session middleware, retaining Set-Cookie, keeps the session cookie on its 304s", async () => {
    const retaining = (app: SessionApp, sessions: SessionMiddlewareOptions) => {
      app.use(
        etag({ retainedHeaders: [...RETAINED_304_HEADERS, "set-cookie"] }),
      );
      app.use(sessionMiddleware(sessions));
    };
    assert.deepEqual(await afterEtag304s(retaining), ["Home", "mj", "mj"]);
  });

  it("hono: the session middleware outside etag() adds the session cookie to etag's 304s", async () => {
    const inside = (app: SessionApp, sessions: SessionMiddlewareOptions) => {
      app.use(sessionMiddleware(sessions));
      app.use(etag());
    };
    assert.deepEqual(await afterEtag304s(inside), ["Home", "mj", "mj"]);
  });

  it("hono: a second session middleware on a request fails it with an error that says what to do, and neither saves anything", async () => {
    const main = recordingStorage();
    const admin = recordingStorage();
    const app = new Hono<SessionEnv>();
    const errors: Error[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.text("failed", 500);
    });
    app.use(sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: main.storage,
    }));
    // An admin area with a cookie of its own, nested in the app-wide one.
    app.use(
      "/admin/*",
      sessionMiddleware({
        cookie: createCookie("admin", { secrets: [SECRET] }),
        storage: admin.storage,
      }),
    );
    app.post("/admin/logout", (c) => {
      c.var.session.destroy();
      return c.text("logged out");
    });
    app.get("/", (c) => {
      c.var.session.set("user", "mj");
      return c.text("home");
    });

    const home = await app.request("/");
    assert.equal(await home.text(), "home", "one middleware alone works");
    main.saved.length = 0;
    const logout = await app.request("/admin/logout", {
      method: "POST",
      headers: { Cookie: pairOf(sessionCookie(home)) },
    });
    assert.equal(logout.status, 500);
    assert.deepEqual(logout.headers.getSetCookie(), []);
    assert.equal(main.saved.length + admin.saved.length, 0);
    assert.equal(errors.length, 1);
    assert.match(
      errors[0].message,
      /^sessionMiddleware: this request already has c\.var\.session \(an object \(Session\)\) from a session middleware that ran before this one/,
    );
    assert.match(errors[0].message, /Run one session middleware per request/);
  });

  it("hono: a session middleware mounted twice, or one after another library's c.var.session, fails the request", async () => {
    const sessions = sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createMemorySessionStorage(),
    });
    const twice = new Hono<SessionEnv>();
    twice.use(sessions);
    twice.use(sessions);
    const other = new Hono<SessionEnv>();
    other.use((c, next) => {
      (c as { set(key: string, value: unknown): void }).set("session", {});
      return next();
    });
    other.use(sessions);
    const cases: Array<[Hono<SessionEnv>, string]> = [
      [twice, "Session"],
      [other, "Object"],
    ];
    for (const [app, value] of cases) {
      let error: Error | undefined;
      app.onError((thrown, c) => {
        error = thrown;
        return c.text("failed", 500);
      });
      app.get("/", (c) => {
        c.var.session.set("user", "mj");
        return c.text("home");
      });
      const response = await app.request("/");
      assert.equal(response.status, 500, value);
      assert.equal(sessionCookie(response), undefined, value);
      assert.match(
        error?.message ?? "",
        new RegExp(
          `already has c\\.var\\.session \\(an object \\(${value}\\)\\)`,
        ),
      );
    }
  });

  it("hono: an area with a session cookie of its own works when the app-wide session middleware is kept off its paths", async () => {
    const app = new Hono<SessionEnv>();
    app.use(except(
      "/admin/*",
      sessionMiddleware({
        cookie: createCookie("sid", { secrets: [SECRET] }),
        storage: createMemorySessionStorage(),
      }),
    ));
    app.use(
      "/admin/*",
      sessionMiddleware({
        cookie: createCookie("admin", { secrets: [SECRET], path: "/admin" }),
        storage: createMemorySessionStorage(),
      }),
    );
    for (const path of ["/", "/admin/"]) {
      app.get(path, (c) => {
        const count = Number(c.var.session.get("count") ?? 0) + 1;
        c.var.session.set("count", count);
        return c.text(String(count));
      });
    }
    let jar: string | null = null;
    const visit = async (path: string) => {
      const response = await app.request(path, {
        headers: jar === null ? {} : { Cookie: jar },
      });
      jar = nextCookieHeader(jar, response.headers.getSetCookie());
      return await response.text();
    };
    assert.equal(await visit("/"), "1");
    assert.equal(await visit("/admin/"), "1");
    assert.equal(await visit("/admin/"), "2");
    assert.equal(await visit("/"), "2");
    const names = jar!.split("; ").map((pair) => pair.split("=")[0]);
    assert.deepEqual(names.sort(), ["admin", "sid"]);
  });
});

type SessionApp = Hono<SessionEnv>;

/** Registers the session middleware, and etag() in some arrangement. */
type Arrangement = (
  app: SessionApp,
  sessions: SessionMiddlewareOptions,
) => void;

/**
 * What the user sees after each case of a 304 from etag(), arranged with the
 * session middleware by `arrange`: the home page after a flash, who they
 * are after a regenerated id, who they are after a renewed ttl.
 */
async function afterEtag304s(arrange: Arrangement): Promise<string[]> {
  return [
    await flashAfter304(arrange),
    await userAfterRegenerating304(arrange),
    await userAfterRenewing304(arrange),
  ];
}

function etagApp(arrange: Arrangement, storage: SessionStorage): SessionApp {
  const app = new Hono<SessionEnv>();
  arrange(app, { cookie: createCookie("sid", { secrets: [SECRET] }), storage });
  app.post("/login", (c) => {
    c.var.session.set("user", "mj");
    return c.body(null, 204);
  });
  app.get("/me", (c) => c.text(String(c.var.session.get("user") ?? "nobody")));
  return app;
}

/**
 * A browser for an app: a cookie jar, and a cache of the pages that came
 * with an ETag, revalidated with If-None-Match. It returns the page shown
 * and, when told whether to expect a 304, checks that.
 */
function browserOf(app: SessionApp) {
  let cookies: string | null = null;
  const pages = new Map<string, { etag: string; body: string }>();
  return async (
    path: string,
    { method = "GET", revalidated }: {
      method?: string;
      revalidated?: boolean;
    } = {},
  ): Promise<string> => {
    const headers = new Headers();
    if (cookies !== null) headers.set("Cookie", cookies);
    const cached = method === "GET" ? pages.get(path) : undefined;
    if (cached) headers.set("If-None-Match", cached.etag);
    const response = await app.request(path, { method, headers });
    cookies = nextCookieHeader(cookies, response.headers.getSetCookie());
    if (revalidated !== undefined) {
      assert.equal(response.status === 304, revalidated, `${method} ${path}`);
    }
    if (cached && response.status === 304) return cached.body;
    const body = await response.text();
    const tag = response.headers.get("ETag");
    if (tag) pages.set(path, { etag: tag, body });
    return body;
  };
}

/**
 * Cookie store: a flash notice is shown on the home page, which a second
 * notice turns into a 304 of the cached page. The page after it shows
 * whatever the browser's cookie still holds.
 */
async function flashAfter304(arrange: Arrangement): Promise<string> {
  const app = etagApp(arrange, createCookieSessionStorage());
  app.post("/save", (c) => {
    c.var.session.flash("notice", "Saved");
    return c.body(null, 204);
  });
  app.get("/", (c) => {
    const notice = c.var.session.get("notice");
    return c.text(notice === undefined ? "Home" : `Home: ${notice}`);
  });
  const visit = browserOf(app);
  await visit("/save", { method: "POST" });
  assert.equal(await visit("/"), "Home: Saved");
  await visit("/save", { method: "POST" });
  assert.equal(await visit("/", { revalidated: true }), "Home: Saved");
  return await visit("/");
}

/**
 * Server store: a page that gives the session a new id on every visit (and
 * deletes the old one) is revalidated with a 304. Returns who the next
 * request is.
 */
async function userAfterRegenerating304(arrange: Arrangement): Promise<string> {
  const app = etagApp(arrange, createMemorySessionStorage());
  app.get("/", (c) => {
    c.var.session.regenerateId(true);
    return c.text("Home");
  });
  const visit = browserOf(app);
  await visit("/login", { method: "POST" });
  await visit("/");
  await visit("/", { revalidated: true });
  return await visit("/me");
}

/**
 * Cookie store with a ttl of 100 s, whose expiry travels in the cookie: the
 * session, in use 60 s after login, is renewed on a request revalidated
 * with a 304. Returns who the request 120 s after login is.
 */
async function userAfterRenewing304(arrange: Arrangement): Promise<string> {
  let user = "";
  await withClock(async (clock) => {
    const app = etagApp(arrange, createCookieSessionStorage({ ttl: 100 }));
    app.get("/", (c) => c.text("Home"));
    const visit = browserOf(app);
    const login = clock.now;
    await visit("/login", { method: "POST" });
    await visit("/");
    clock.now = login + 60_000;
    await visit("/", { revalidated: true });
    clock.now = login + 120_000;
    user = await visit("/me");
  });
  return user;
}
