import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { commitSession, readSession, withSession } from "./middleware.ts";
import { createCookie } from "./cookie.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import type { Session, SessionStorage } from "./session.ts";
import { withClock } from "./testing/clock.ts";
import { nextCookieHeader } from "./testing/cookie_jar.ts";

const SECRET = "a test secret that is at least 32 bytes long";

function options(
  storage: SessionStorage = createMemorySessionStorage(),
  cookieOptions: Parameters<typeof createCookie>[1] = {},
) {
  return {
    cookie: createCookie("sid", { secrets: [SECRET], ...cookieOptions }),
    storage,
  };
}

/** The `name=value` pair of a Set-Cookie header, as a client sends it back. */
function pairOf(setCookie: string): string {
  return setCookie.split(";")[0];
}

function sessionCookies(response: Response): string[] {
  return response.headers.getSetCookie().filter((c) => c.startsWith("sid="));
}

function get(path: string, cookie?: string, host = "localhost"): Request {
  return new Request(`http://${host}${path}`, {
    headers: cookie === undefined ? {} : { Cookie: cookie },
  });
}

function counter(session: Session): Response {
  const count = Number(session.get("count") ?? 0) + 1;
  session.set("count", count);
  return new Response(String(count));
}

/** A storage that records how often `save` was called. */
function countingStorage() {
  const inner = createMemorySessionStorage();
  const storage = {
    saves: 0,
    read: (cookie: string | null) => inner.read(cookie),
    save(session: Session) {
      storage.saves++;
      return inner.save(session);
    },
  };
  return storage;
}

/** Replaces console.warn while `body` runs and returns what was warned. */
async function captureWarnings(body: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.join(" "));
  try {
    await body();
  } finally {
    console.warn = original;
  }
  return warnings;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections?.();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("withSession", () => {
  it("middleware: refuses an unsigned cookie when it is created", () => {
    assert.throws(
      () =>
        withSession({
          cookie: createCookie("sid"),
          storage: createMemorySessionStorage(),
        }, (_request, session) => counter(session)),
      (error: Error) =>
        error instanceof TypeError && /option "cookie"/.test(error.message) &&
        /secrets/.test(error.message),
    );
  });

  it("middleware: refuses a storage without read and save, and a handler that is not a function", () => {
    assert.throws(
      () =>
        withSession(
          // @ts-expect-error: the storage is missing on purpose
          { cookie: options().cookie, storage: {} },
          () => new Response(),
        ),
      /option "storage" must be a session storage with read\(\) and save\(\).*got an object \(Object\)\./,
    );
    // A string in the wrong place could be a secret: it is never printed.
    const secret = "a secret put where the storage goes, 32 bytes";
    assert.throws(
      () =>
        withSession(
          // @ts-expect-error: a string on purpose
          { cookie: options().cookie, storage: secret },
          () => new Response(),
        ),
      (error: Error) =>
        error.message.includes(`got a string of ${secret.length} characters`) &&
        !error.message.includes(secret),
    );
    assert.throws(
      // @ts-expect-error: the handler is missing on purpose
      () => withSession(options(), undefined),
      /argument "handler" must be a function that returns a Response, got undefined\./,
    );
  });

  it("middleware: keeps a session across requests through the cookie it sets", async () => {
    const handler = withSession(
      options(),
      (_request, session) => counter(session),
    );
    const first = await handler(get("/"));
    assert.equal(await first.text(), "1");
    const [setCookie] = sessionCookies(first);
    assert.ok(setCookie, "the first response sets the session cookie");
    const second = await handler(get("/", pairOf(setCookie)));
    assert.equal(await second.text(), "2");
  });

  it("middleware: sends no Set-Cookie when the session did not change", async () => {
    const handler = withSession(
      options(),
      (request, session) =>
        new URL(request.url).pathname === "/count"
          ? counter(session)
          : new Response(String(session.get("count"))),
    );
    const first = await handler(get("/count"));
    const cookie = pairOf(sessionCookies(first)[0]);
    const read = await handler(get("/", cookie));
    assert.equal(await read.text(), "1");
    assert.deepEqual(read.headers.getSetCookie(), []);
    assert.equal(read.headers.get("Cache-Control"), null);
  });

  it("middleware: sends the cookie with its Max-Age again when the store renews an unchanged session in use", () =>
    withClock(async (clock) => {
      const handler = withSession(
        options(createMemorySessionStorage({ ttl: 60 }), { maxAge: 60 }),
        (request, session) =>
          new URL(request.url).pathname === "/count"
            ? counter(session)
            : new Response(String(session.get("count"))),
      );
      const cookie = pairOf(sessionCookies(await handler(get("/count")))[0]);
      clock.now += 29_000;
      assert.deepEqual(sessionCookies(await handler(get("/", cookie))), []);
      clock.now += 2_000;
      const renewed = sessionCookies(await handler(get("/", cookie)));
      assert.equal(renewed.length, 1);
      assert.match(renewed[0], /; Max-Age=60;/);
      assert.equal(pairOf(renewed[0]), cookie);
    }));

  it("middleware: gives a fresh session for a cookie whose signature was changed", async () => {
    const handler = withSession(
      options(),
      (_request, session) => counter(session),
    );
    const cookie = pairOf(sessionCookies(await handler(get("/")))[0]);
    const last = cookie.at(-1) === "A" ? "B" : "A";
    const forged = await handler(get("/", cookie.slice(0, -1) + last));
    assert.equal(await forged.text(), "1");
  });

  it("middleware: clears the cookie with Max-Age=0 and deletes the data when the session is destroyed", async () => {
    const handler = withSession(options(), (request, session) => {
      if (new URL(request.url).pathname === "/logout") {
        session.destroy();
        return new Response("bye");
      }
      return counter(session);
    });
    const cookie = pairOf(sessionCookies(await handler(get("/")))[0]);
    const logout = await handler(get("/logout", cookie));
    const [cleared] = sessionCookies(logout);
    assert.match(cleared, /;\s*Max-Age=0/i);
    const replay = await handler(get("/", cookie));
    assert.equal(await replay.text(), "1", "the old cookie finds no session");
  });

  it("middleware: adds the cookie to a Response.redirect, whose headers are immutable", async () => {
    const handler = withSession(options(), (_request, session) => {
      session.set("userId", "mj");
      return Response.redirect("http://localhost/account", 303);
    });
    const response = await handler(get("/login"));
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("Location"), "http://localhost/account");
    assert.equal(sessionCookies(response).length, 1);
  });

  it("middleware: adds the cookie to a fetch() result and passes its body through", async () => {
    const upstream = createServer((_request, response) => {
      response.setHeader("Content-Type", "text/plain");
      response.setHeader("Set-Cookie", "upstream=1; Path=/");
      response.end("from upstream");
    });
    const port = await listen(upstream);
    try {
      const handler = withSession(options(), async (_request, session) => {
        session.set("proxied", true);
        return await fetch(`http://127.0.0.1:${port}/`);
      });
      const response = await handler(get("/"));
      assert.equal(await response.text(), "from upstream");
      assert.equal(response.headers.get("Content-Type"), "text/plain");
      const cookies = response.headers.getSetCookie();
      assert.ok(cookies.includes("upstream=1; Path=/"));
      assert.equal(sessionCookies(response).length, 1);
    } finally {
      await close(upstream);
    }
  });

  it("middleware: keeps the handler's own Set-Cookie headers next to the session cookie", async () => {
    const handler = withSession(options(), (_request, session) => {
      session.set("theme", "dark");
      const headers = new Headers();
      headers.append("Set-Cookie", "a=1; Path=/");
      headers.append("Set-Cookie", "b=2; Path=/; HttpOnly");
      return new Response("ok", { status: 201, statusText: "Made", headers });
    });
    const response = await handler(get("/"));
    assert.equal(response.status, 201);
    assert.equal(response.statusText, "Made");
    const cookies = response.headers.getSetCookie();
    assert.deepEqual(cookies.slice(0, 2), [
      "a=1; Path=/",
      "b=2; Path=/; HttpOnly",
    ]);
    assert.equal(cookies.length, 3);
    assert.match(cookies[2], /^sid=/);
  });

  it("middleware: sends the handler's session cookie, not its own, when the handler set it", async () => {
    const sessions = options();
    const handler = withSession(sessions, async (_request, session) => {
      session.destroy();
      const fresh = await sessions.storage.read(null);
      fresh.flash("message", "Logged out");
      return await commitSession(fresh, new Response("bye"), sessions);
    });
    const response = await handler(get("/"));
    const [only, ...rest] = sessionCookies(response);
    assert.deepEqual(rest, []);
    assert.doesNotMatch(only, /Max-Age=0/i);
    const next = await readSession(get("/", pairOf(only)), sessions);
    assert.equal(next.get("message"), "Logged out");
  });

  it("middleware: never adds the cookie to the handler's Response object itself", async () => {
    const shared = new Response(null, { status: 204 });
    const handler = withSession(options(), (_request, session) => {
      session.set("seen", true);
      return shared;
    });
    const first = await handler(get("/"));
    const second = await handler(get("/"));
    assert.equal(shared.headers.getSetCookie().length, 0);
    assert.notEqual(
      sessionCookies(first)[0],
      sessionCookies(second)[0],
      "each client gets its own session cookie",
    );
  });

  it("middleware: saves nothing and rejects with the handler's error when the handler throws", async () => {
    const storage = countingStorage();
    const handler = withSession(options(storage), (request, session) => {
      if (new URL(request.url).pathname === "/fail") {
        session.set("count", 99);
        throw new Error("handler failed");
      }
      return counter(session);
    });
    const cookie = pairOf(sessionCookies(await handler(get("/")))[0]);
    assert.equal(storage.saves, 1);
    await assert.rejects(handler(get("/fail", cookie)), /handler failed/);
    assert.equal(storage.saves, 1);
    assert.equal(await (await handler(get("/", cookie))).text(), "2");
  });

  it("middleware: saves nothing and says so when the handler returns something else than a Response", async () => {
    const storage = countingStorage();
    const handler = withSession(options(storage), (_request, session) => {
      session.set("count", 1);
      return "ok" as unknown as Response;
    });
    await assert.rejects(
      handler(get("/")),
      (error: Error) =>
        error instanceof TypeError &&
        /must return a Response/.test(error.message),
    );
    assert.equal(storage.saves, 0);
  });

  it("middleware: passes the server's second argument to the handler", async () => {
    const info = { remoteAddr: { hostname: "127.0.0.1" } };
    let seen: unknown;
    const handler = withSession<typeof info>(
      options(),
      (_request, _session, received) => {
        seen = received;
        return new Response();
      },
    );
    await handler(get("/"), info);
    assert.equal(seen, info);
  });

  it("middleware: passes a Worker's env and ctx, the server's second and third arguments, to the handler", async () => {
    const env = { SESSION_SECRET: "from the bindings" };
    const ctx = { waitUntil(_promise: Promise<unknown>) {} };
    let seen: unknown[] = [];
    const handler = withSession<typeof env, typeof ctx>(
      options(),
      (_request, _session, ...received) => {
        seen = received;
        return new Response();
      },
    );
    await handler(get("/"), env, ctx);
    assert.equal(seen[0], env);
    assert.equal(seen[1], ctx);
  });

  it("middleware: works with the cookie store, whose cookie holds the data", async () => {
    const handler = withSession(
      options(createCookieSessionStorage()),
      (_request, session) => counter(session),
    );
    let cookie = pairOf(sessionCookies(await handler(get("/")))[0]);
    for (let i = 2; i <= 3; i++) {
      const response = await handler(get("/", cookie));
      assert.equal(await response.text(), String(i));
      cookie = pairOf(sessionCookies(response)[0]);
    }
  });

  it("middleware: serves sessions over HTTP through @hono/node-server", async () => {
    const handler = withSession(
      options(),
      (_request, session) => counter(session),
    );
    const { server, port } = await new Promise<
      { server: ReturnType<typeof serve>; port: number }
    >((resolve) => {
      const server = serve(
        {
          fetch: handler,
          port: 0,
          hostname: "127.0.0.1",
          // Keep the global Request and Response for the other tests.
          overrideGlobalObjects: false,
        },
        (info) => resolve({ server, port: info.port }),
      );
    });
    try {
      const url = `http://127.0.0.1:${port}/`;
      const first = await fetch(url);
      assert.equal(await first.text(), "1");
      const cookie = pairOf(first.headers.getSetCookie()[0]);
      const second = await fetch(url, { headers: { Cookie: cookie } });
      assert.equal(await second.text(), "2");
    } finally {
      await close(server as Server);
    }
  });
});

describe("shared caches", () => {
  /** A handler that counts visits and answers with `headers`. */
  function countingWith(headers: HeadersInit) {
    return withSession(options(), (_request, session) => {
      const response = counter(session);
      for (const [name, value] of new Headers(headers)) {
        response.headers.set(name, value);
      }
      return response;
    });
  }

  it("middleware: makes a response that sets the session cookie private when the handler said nothing about caching", async () => {
    const response = await countingWith({})(get("/"));
    assert.equal(sessionCookies(response).length, 1);
    assert.equal(response.headers.get("Cache-Control"), "private");
  });

  it("middleware: keeps a Cache-Control that lets shared caches store the response, and keeps only the cookie from them", async () => {
    for (
      const cacheControl of ["public, max-age=60", "s-maxage=60", "no-cache"]
    ) {
      const response = await countingWith({ "Cache-Control": cacheControl })(
        get("/"),
      );
      assert.equal(
        response.headers.get("Cache-Control"),
        `${cacheControl}, private="Set-Cookie"`,
      );
    }
  });

  it("middleware: adds Set-Cookie to the fields of a qualified private the handler gave, rather than a second private", async () => {
    for (
      const [given, sent] of [
        [
          'max-age=60, private="X-Debug"',
          'max-age=60, private="X-Debug, Set-Cookie"',
        ],
        [
          'private="X-A, X-B", max-age=60',
          'private="X-A, X-B, Set-Cookie", max-age=60',
        ],
        [
          "max-age=60, Private=X-Debug",
          'max-age=60, Private="X-Debug, Set-Cookie"',
        ],
      ]
    ) {
      const response = await countingWith({ "Cache-Control": given })(get("/"));
      assert.equal(sessionCookies(response).length, 1);
      assert.equal(response.headers.get("Cache-Control"), sent);
    }
  });

  it("middleware: leaves a Cache-Control that already keeps shared caches out as it is", async () => {
    for (
      const cacheControl of [
        "private",
        "no-store",
        "max-age=0, private",
        "NO-STORE,no-cache",
        'max-age=60, private="x-debug, set-cookie"',
      ]
    ) {
      const response = await countingWith({ "Cache-Control": cacheControl })(
        get("/"),
      );
      assert.equal(sessionCookies(response).length, 1);
      assert.equal(response.headers.get("Cache-Control"), cacheControl);
    }
  });

  it("middleware: adds no Cache-Control to a response that does not set the session cookie", async () => {
    const handler = withSession(
      options(),
      () => new Response("hello", { headers: { "Set-Cookie": "theme=dark" } }),
    );
    const response = await handler(get("/"));
    assert.deepEqual(response.headers.getSetCookie(), ["theme=dark"]);
    assert.equal(response.headers.get("Cache-Control"), null);
  });

  it("middleware: commitSession marks Headers it adds the cookie to as it marks a Response", async () => {
    const sessions = options();
    const session = await readSession(get("/"), sessions);
    session.set("theme", "dark");
    const headers = new Headers({ "Cache-Control": "max-age=60" });
    await commitSession(session, headers, sessions);
    assert.equal(
      headers.get("Cache-Control"),
      'max-age=60, private="Set-Cookie"',
    );
  });
});

describe("the insecure cookie warning", () => {
  it("middleware: warns once when the cookie lacks Secure on a request to a public host", async () => {
    const handler = withSession(
      options(),
      (_request, session) => counter(session),
    );
    const ids: string[] = [];
    const warnings = await captureWarnings(async () => {
      for (let i = 0; i < 3; i++) {
        const response = await handler(get("/", undefined, "example.com"));
        ids.push(pairOf(sessionCookies(response)[0]).slice("sid=".length));
      }
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /"sid"/);
    assert.match(warnings[0], /Secure/);
    assert.match(warnings[0], /example\.com/);
    for (const id of ids) {
      assert.ok(!warnings[0].includes(id.split(".")[0]), "no session id");
    }
  });

  it("middleware: stays silent on localhost, 127.0.0.1 and [::1], and for a Secure cookie", async () => {
    const insecure = withSession(
      options(),
      (_request, session) => counter(session),
    );
    const secure = withSession(
      options(undefined, { secure: true }),
      (_request, session) => counter(session),
    );
    const warnings = await captureWarnings(async () => {
      for (const host of ["localhost", "app.localhost", "127.0.0.1", "[::1]"]) {
        await insecure(get("/", undefined, host));
      }
      await secure(get("/", undefined, "example.com"));
    });
    assert.deepEqual(warnings, []);
  });
});

describe("readSession and commitSession", () => {
  it("middleware: refuse an unsigned cookie", async () => {
    const unsigned = {
      cookie: createCookie("sid"),
      storage: createMemorySessionStorage(),
    };
    await assert.rejects(readSession(get("/"), unsigned), /option "cookie"/);
    const session = await readSession(get("/"), options());
    await assert.rejects(
      commitSession(session, new Headers(), unsigned),
      /option "cookie"/,
    );
  });

  it("middleware: append the cookie to mutable Headers in place", async () => {
    const sessions = options();
    const session = await readSession(get("/"), sessions);
    session.set("theme", "dark");
    const headers = new Headers({ "Set-Cookie": "a=1" });
    assert.equal(await commitSession(session, headers, sessions), headers);
    const cookies = headers.getSetCookie();
    assert.equal(cookies.length, 2);
    const next = await readSession(get("/", pairOf(cookies[1])), sessions);
    assert.equal(next.get("theme"), "dark");
  });

  it("middleware: explain that immutable Headers cannot take the cookie", async () => {
    const sessions = options();
    const session = await readSession(get("/"), sessions);
    session.set("theme", "dark");
    // Deno and Node make the headers of Response.redirect() and fetch()
    // results immutable; Bun does not, so the test builds such headers.
    class ImmutableHeaders extends Headers {
      override append(): void {
        throw new TypeError("Headers are immutable");
      }
    }
    const headers = new ImmutableHeaders();
    await assert.rejects(
      commitSession(session, headers, sessions),
      /immutable.*Pass the Response itself/s,
    );
  });

  it("middleware: a second commit of the session replaces the cookie the first one added, and keeps the handler's other cookies", async () => {
    for (const storage of ["memory", "cookie"]) {
      const sessions = options(
        storage === "memory"
          ? createMemorySessionStorage()
          : createCookieSessionStorage(),
      );
      const session = await readSession(get("/"), sessions);
      session.set("theme", "dark");
      const headers = new Headers({
        "Set-Cookie": "a=1",
        "Cache-Control": "max-age=60",
      });
      await commitSession(session, headers, sessions);
      // Changed after the first commit: a login that regenerates the id.
      session.set("userId", "mj");
      session.regenerateId(true);
      await commitSession(session, headers, sessions);
      const committed = await commitSession(
        session,
        new Response(null, { headers }),
        sessions,
      );
      for (const target of [headers, committed.headers]) {
        const cookies = target.getSetCookie();
        assert.equal(cookies.length, 2, storage);
        assert.equal(cookies[0], "a=1");
        const next = await readSession(get("/", pairOf(cookies[1])), sessions);
        assert.equal(next.id, session.id, storage);
        assert.equal(next.get("userId"), "mj", storage);
        assert.equal(
          target.get("Cache-Control"),
          'max-age=60, private="Set-Cookie"',
          "the cookie is kept from shared caches once",
        );
      }
    }
  });

  it("middleware: refuse a target that is neither a Response nor Headers", async () => {
    const sessions = options();
    const session = await readSession(get("/"), sessions);
    await assert.rejects(
      // @ts-expect-error: a plain object on purpose
      commitSession(session, { "Set-Cookie": "a=1" }, sessions),
      /argument "target" must be a Response or Headers/,
    );
  });
});

describe("two sessions of one request", () => {
  const stores = {
    memory: () => createMemorySessionStorage(),
    cookie: () => createCookieSessionStorage(),
  };
  const conflict =
    /another Session object .*"sid".*was saved.*once per request/s;

  /** Two Session objects read from one request that carries a session. */
  async function twoSessions(storage: SessionStorage) {
    const sessions = options(storage);
    const first = await readSession(get("/"), sessions);
    first.set("visits", 1);
    const cookie = pairOf(
      (await commitSession(first, new Headers(), sessions))
        .getSetCookie()[0],
    );
    return {
      sessions,
      cookie,
      page: await readSession(get("/", cookie), sessions),
      helper: await readSession(get("/", cookie), sessions),
    };
  }

  /** Commits `list` in turn onto one Headers; answers its one cookie pair. */
  async function oneCookie(
    sessions: ReturnType<typeof options>,
    list: Session[],
  ): Promise<string> {
    const headers = new Headers();
    for (const session of list) await commitSession(session, headers, sessions);
    const [only, ...rest] = headers.getSetCookie();
    assert.deepEqual(rest, [], "one session cookie");
    return pairOf(only);
  }

  for (const [store, storage] of Object.entries(stores)) {
    it(`middleware: on the ${store} store, committing a second session whose cookie differs onto the same headers throws and names no value`, async () => {
      const { sessions, cookie, page, helper } = await twoSessions(storage());
      page.set("theme", "dark");
      helper.set("userId", "mj");
      helper.regenerateId(true);
      const headers = new Headers({ "Set-Cookie": "a=1" });
      await commitSession(page, headers, sessions);
      const error = await commitSession(helper, headers, sessions).then(
        () => assert.fail("the second commit must throw"),
        (error: Error) => error,
      );
      assert.match(error.message, conflict);
      for (const secret of [cookie.slice(4), page.id, helper.id]) {
        assert.ok(!error.message.includes(secret), "no value in the error");
      }
      assert.equal(headers.getSetCookie().length, 2, "nothing added");
    });

    it(`middleware: on the ${store} store, the conflict is found on the Response the first commit returned`, async () => {
      const { sessions, page, helper } = await twoSessions(storage());
      page.set("theme", "dark");
      helper.regenerateId(true);
      const response = await commitSession(page, new Response("ok"), sessions);
      await assert.rejects(commitSession(helper, response, sessions), conflict);
    });

    it(`middleware: on the ${store} store, two nested withSession on one cookie that both change the session throw`, async () => {
      const { sessions, cookie } = await twoSessions(storage());
      const inner = withSession(sessions, (_request, session) => {
        session.set("inner", true);
        return new Response("ok");
      });
      const outer = withSession(sessions, async (request, session) => {
        const response = await inner(request);
        session.regenerateId(true);
        return response;
      });
      await assert.rejects(outer(get("/", cookie)), conflict);
    });

    it(`middleware: on the ${store} store, a second session that holds the same id and data as the first adds nothing and does not throw`, () =>
      withClock(async (clock) => {
        const { sessions, page, helper } = await twoSessions(storage());
        page.set("theme", "dark");
        helper.set("theme", "dark");
        const headers = new Headers();
        await commitSession(page, headers, sessions);
        // The cookie store's value carries the time of the save.
        clock.now += 1_000;
        await commitSession(helper, headers, sessions);
        const [only, ...rest] = headers.getSetCookie();
        assert.deepEqual(rest, []);
        const next = await readSession(get("/", pairOf(only)), sessions);
        assert.equal(next.get("theme"), "dark");
        assert.equal(next.get("visits"), 1);
      }));

    it(`middleware: on the ${store} store, a second session with nothing to save adds nothing`, async () => {
      const { sessions, page, helper } = await twoSessions(storage());
      page.set("theme", "dark");
      const sent = await oneCookie(sessions, [page, helper]);
      const next = await readSession(get("/", sent), sessions);
      assert.equal(next.get("theme"), "dark");
    });

    it(`middleware: on the ${store} store, a session cookie the handler set itself wins over a second session's without a word`, async () => {
      const { sessions, page, helper } = await twoSessions(storage());
      page.set("theme", "dark");
      helper.set("theme", "light");
      const headers = new Headers({ "Set-Cookie": "sid=handler-chosen" });
      await commitSession(page, headers, sessions);
      await commitSession(helper, headers, sessions);
      assert.deepEqual(headers.getSetCookie(), ["sid=handler-chosen"]);
    });

    it(`middleware: on the ${store} store, a destroyed session gives way to a new one in either order, but not to one of its own id`, async () => {
      for (const newFirst of [true, false]) {
        const { sessions, cookie, page } = await twoSessions(storage());
        page.destroy();
        const fresh = await readSession(get("/"), sessions);
        fresh.flash("message", "Logged out");
        const sent = await oneCookie(
          sessions,
          newFirst ? [fresh, page] : [page, fresh],
        );
        const next = await readSession(get("/", sent), sessions);
        assert.equal(next.get("message"), "Logged out");
        assert.equal(next.get("visits"), undefined);
        assert.notEqual(sent, cookie);
      }
      const { sessions, page, helper } = await twoSessions(storage());
      helper.set("theme", "dark");
      page.destroy();
      const headers = new Headers();
      await commitSession(helper, headers, sessions);
      await assert.rejects(commitSession(page, headers, sessions), conflict);
    });
  }

  it("middleware: on the memory store, two sessions of one id that change different values send one cookie and keep both changes", async () => {
    const { sessions, cookie, page, helper } = await twoSessions(
      createMemorySessionStorage(),
    );
    page.set("theme", "dark");
    helper.set("userId", "mj");
    assert.equal(await oneCookie(sessions, [page, helper]), cookie);
    const next = await readSession(get("/", cookie), sessions);
    assert.deepEqual([next.get("theme"), next.get("userId")], ["dark", "mj"]);
  });

  it("middleware: on the cookie store, two sessions that change different values throw", async () => {
    const { sessions, page, helper } = await twoSessions(
      createCookieSessionStorage(),
    );
    page.set("theme", "dark");
    helper.set("userId", "mj");
    const headers = new Headers();
    await commitSession(page, headers, sessions);
    await assert.rejects(commitSession(helper, headers, sessions), conflict);
  });

  it("middleware: on a chunked cookie, a second session's differing chunks throw and equal ones add nothing", async () => {
    const sessions = options(createCookieSessionStorage(), {
      chunked: { maxBytes: 16 * 1024 },
    });
    const first = await readSession(get("/"), sessions);
    first.set("data", "d".repeat(6000));
    const jar = nextCookieHeader(
      null,
      (await commitSession(first, new Headers(), sessions)).getSetCookie(),
    )!;
    const page = await readSession(get("/", jar), sessions);
    const helper = await readSession(get("/", jar), sessions);
    page.set("data", "p".repeat(6000));
    helper.set("data", "h".repeat(6000));
    const headers = new Headers();
    await commitSession(page, headers, sessions);
    assert.equal(headers.getSetCookie().length, 3);
    await assert.rejects(commitSession(helper, headers, sessions), conflict);

    helper.set("data", "p".repeat(6000));
    await commitSession(helper, headers, sessions);
    const chunks = headers.getSetCookie();
    assert.equal(chunks.length, 3);
    const next = await readSession(
      get("/", nextCookieHeader(jar, chunks)!),
      sessions,
    );
    assert.equal(next.get("data"), "p".repeat(6000));
  });
});

describe("chunked session cookies", () => {
  const chunked = { chunked: { maxBytes: 16 * 1024 } };

  /** A handler that sets `bytes` characters of data, or logs out. */
  function app(storage = createCookieSessionStorage()) {
    return withSession(options(storage, chunked), (request, session) => {
      const url = new URL(request.url);
      if (url.pathname === "/logout") session.destroy();
      const bytes = url.searchParams.get("bytes");
      if (bytes !== null) session.set("data", "d".repeat(Number(bytes)));
      const headers = new Headers({ "Set-Cookie": "theme=dark; Path=/" });
      return new Response(String(session.get("data") ?? "").length + "", {
        headers,
      });
    });
  }

  it("middleware: a session too large for one cookie travels in several, shrinks with the stale chunks expired, and is deleted whole", async () => {
    const handler = app();
    let jar: string | null = null;
    async function visit(path: string) {
      const response = await handler(get(path, jar ?? undefined));
      jar = nextCookieHeader(jar, response.headers.getSetCookie());
      return { response, body: await response.text() };
    }
    const names = () => jar?.split("; ").map((pair) => pair.split("=")[0]);

    const grown = await visit("/?bytes=8500");
    assert.equal(grown.body, "8500");
    assert.deepEqual(names(), ["theme", "sid", "sid.1", "sid.2"]);
    assert.equal((await visit("/")).body, "8500", "read back whole");
    assert.equal((await visit("/")).body, "8500");

    const shrunk = await visit("/?bytes=1000");
    assert.equal(shrunk.body, "1000");
    assert.deepEqual(
      shrunk.response.headers.getSetCookie().map((h) => h.split(";")[0]),
      [
        "theme=dark",
        sessionCookies(shrunk.response)[0].split(";")[0],
        "sid.1=",
        "sid.2=",
      ],
    );
    assert.deepEqual(names(), ["theme", "sid"]);
    assert.equal((await visit("/")).body, "1000");

    await visit("/?bytes=8500");
    assert.equal(names()?.length, 4);
    const logout = await visit("/logout");
    assert.equal(logout.response.headers.getSetCookie().length, 4);
    assert.deepEqual(names(), ["theme"]);
  });

  it("middleware: readSession and commitSession append every chunk to Headers and to an immutable Response", async () => {
    const sessions = options(createCookieSessionStorage(), chunked);
    const session = await readSession(get("/"), sessions);
    session.set("data", "d".repeat(6000));
    const headers = new Headers();
    await commitSession(session, headers, sessions);
    assert.equal(headers.getSetCookie().length, 3);
    const cookie = nextCookieHeader(null, headers.getSetCookie())!;

    const next = await readSession(get("/", cookie), sessions);
    assert.equal(String(next.get("data")).length, 6000);
    next.set("data", "small");
    const response = await commitSession(
      next,
      Response.redirect("http://localhost/", 303),
      sessions,
    );
    const setCookies = response.headers.getSetCookie();
    assert.equal(setCookies.length, 3);
    assert.match(setCookies[1], /^sid\.1=; Max-Age=0;/);
    const last = nextCookieHeader(cookie, setCookies);
    assert.equal(
      (await readSession(get("/", last!), sessions)).get("data"),
      "small",
    );
  });

  it("middleware: without option chunked, a session too large for one cookie fails with an error that names it", async () => {
    const sessions = options(createCookieSessionStorage());
    const session = await readSession(get("/"), sessions);
    session.set("data", "d".repeat(6000));
    await assert.rejects(
      commitSession(session, new Headers(), sessions),
      /option "chunked"/,
    );
  });
});
