import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createServer,
  get,
  type IncomingMessage,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Readable } from "node:stream";
import express from "express";
import { CookieJar } from "tough-cookie";
import { sessionMiddleware } from "./express.ts";
import { createCookie } from "./cookie.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import type { Session, SessionStorage } from "./session.ts";

const SECRET = "a test secret that is at least 32 bytes long";

function sessionOf(req: unknown): Session {
  return (req as { session: Session }).session;
}

/** A memory storage that counts its saves; `failing` makes them reject. */
function recordingStorage() {
  const inner = createMemorySessionStorage();
  const record = {
    saves: 0,
    failing: false,
    storage: {
      read: (cookie) => inner.read(cookie),
      save(session) {
        if (record.failing) {
          return Promise.reject(new Error("the store is down"));
        }
        record.saves++;
        return inner.save(session);
      },
    } as SessionStorage,
  };
  return record;
}

/** Runs `fn` with console.error recorded instead of printed. */
async function capturingErrors<T>(
  fn: (errors: unknown[]) => Promise<T>,
): Promise<T> {
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args[0]);
  try {
    return await fn(errors);
  } finally {
    console.error = original;
  }
}

/** A server on loopback and a client with a cookie jar. */
async function listen(server: Server) {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const jar = new CookieJar();
  return {
    jar,
    base,
    async fetch(path: string, init: RequestInit = {}): Promise<Response> {
      const url = base + path;
      const cookie = await jar.getCookieString(url);
      const response = await fetch(url, {
        redirect: "manual",
        ...init,
        headers: cookie ? { cookie } : {},
      });
      for (const setCookie of response.headers.getSetCookie()) {
        await jar.setCookie(setCookie, url);
      }
      return response;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An Express app with the session middleware over a memory store. */
function memorySessionApp() {
  const app = express();
  app.use(sessionMiddleware({
    cookie: createCookie("sid", { secrets: [SECRET] }),
    storage: createMemorySessionStorage(),
  }));
  return app;
}

/**
 * Answers the app's errors with a 500 "failed" and returns them: Express
 * would print each one, and the test output would fill with expected errors.
 */
function answeringErrors(app: express.Express): Error[] {
  const errors: Error[] = [];
  app.use(
    (
      error: Error,
      _req: IncomingMessage,
      res: express.Response,
      _next: unknown,
    ) => {
      errors.push(error);
      res.status(500).send("failed");
    },
  );
  return errors;
}

function hasSessionCookie(response: Response): boolean {
  return response.headers.getSetCookie().some((c) => c.startsWith("sid="));
}

describe("express", () => {
  const store = recordingStorage();
  let client: Awaited<ReturnType<typeof listen>>;

  before(async () => {
    const app = express();
    app.use("/early", (_req, res, next) => {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.write("early ");
      next();
    });
    app.use(sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: store.storage,
    }));
    app.get("/", (req, res) => {
      res.send(String(sessionOf(req).get("user") ?? "nobody"));
    });
    app.get("/count", (req, res) => {
      const count = Number(sessionOf(req).get("count") ?? 0) + 1;
      sessionOf(req).set("count", count);
      res.send(String(count));
    });
    app.get("/json", (req, res) => {
      sessionOf(req).set("via", "json");
      res.json({ ok: true });
    });
    app.post("/login", (req, res) => {
      sessionOf(req).regenerateId(true);
      sessionOf(req).set("user", "mj");
      res.redirect(303, "/");
    });
    app.post("/logout", (req, res) => {
      sessionOf(req).destroy();
      res.status(204).end();
    });
    app.get("/stream", async (req, res) => {
      sessionOf(req).set("via", "stream");
      res.setHeader("Content-Type", "text/plain");
      for (const word of ["one ", "two ", "three"]) {
        res.write(word);
        await sleep(1);
      }
      res.end();
    });
    app.get("/empty", (req, res) => {
      sessionOf(req).set("via", "empty");
      res.end();
    });
    app.get("/head", (req, res) => {
      sessionOf(req).set("via", "writeHead");
      res.writeHead(201, { "Set-Cookie": "theme=dark; Path=/" });
      res.end("created");
    });
    app.get("/pipe", (req, res) => {
      sessionOf(req).set("via", "pipe");
      Readable.from(["piped ", "body"]).pipe(res);
    });
    app.get("/raw-head", (req, res) => {
      sessionOf(req).set("via", "raw writeHead");
      res.writeHead(200, [
        "Set-Cookie",
        "a=1; Path=/",
        "Set-Cookie",
        "b=2; Path=/",
      ]);
      res.end("raw");
    });
    app.post("/invalid", (req, res) => {
      sessionOf(req).flash("error", "Name a user");
      res.status(400).send("invalid");
    });
    app.get("/flush", (req, res) => {
      sessionOf(req).set("via", "flushHeaders");
      res.flushHeaders();
      res.end("flushed");
    });
    app.post("/throw", (req) => {
      sessionOf(req).set("user", "admin");
      throw new Error("the permission check failed after the change");
    });
    app.post("/reject", async (req) => {
      sessionOf(req).set("user", "admin");
      await sleep(1);
      throw new Error("the permission check failed after the change");
    });
    app.post("/next-error", (req, _res, next) => {
      sessionOf(req).set("user", "admin");
      next(new Error("the permission check failed after the change"));
    });
    app.get("/early", (req, res) => {
      sessionOf(req).set("user", "admin");
      res.end("late");
    });
    answeringErrors(app);
    client = await listen(createServer(app));
  });

  after(() => client.close());

  it("express: a session keeps its values from one request to the next", async () => {
    assert.equal(await (await client.fetch("/count")).text(), "1");
    assert.equal(await (await client.fetch("/count")).text(), "2");
  });

  it("express: a redirect carries the cookie", async () => {
    const login = await client.fetch("/login", { method: "POST" });
    assert.equal(login.status, 303);
    assert.ok(hasSessionCookie(login));
    assert.equal(await (await client.fetch("/")).text(), "mj");
  });

  it("express: res.json, streaming writes, res.end with no body, writeHead and flushHeaders all carry the cookie", async () => {
    const expected: Record<string, [number, string]> = {
      "/json": [200, '{"ok":true}'],
      "/stream": [200, "one two three"],
      "/empty": [200, ""],
      "/head": [201, "created"],
      "/flush": [200, "flushed"],
      "/pipe": [200, "piped body"],
      "/raw-head": [200, "raw"],
    };
    for (const [path, [status, body]] of Object.entries(expected)) {
      const response = await client.fetch(path);
      assert.equal(response.status, status, path);
      assert.equal(await response.text(), body, path);
      assert.ok(hasSessionCookie(response), `${path} sets the session cookie`);
    }
    const head = await client.fetch("/head");
    assert.ok(
      head.headers.getSetCookie().includes("theme=dark; Path=/"),
      "writeHead's own Set-Cookie is kept",
    );
    const raw = await client.fetch("/raw-head");
    assert.deepEqual(
      raw.headers.getSetCookie().filter((c) => !c.startsWith("sid=")),
      ["a=1; Path=/", "b=2; Path=/"],
      "writeHead's raw array of headers is kept",
    );
  });

  it("express: a response that sets the session cookie is kept from shared caches, the handler's Cache-Control kept", async () => {
    const app = memorySessionApp();
    app.get("/count", (req, res) => {
      sessionOf(req).set("count", 1);
      res.send("1");
    });
    app.get("/public", (req, res) => {
      sessionOf(req).set("count", 1);
      res.set("Cache-Control", "public, max-age=60").send("1");
    });
    app.get("/head", (req, res) => {
      sessionOf(req).set("count", 1);
      res.writeHead(200, { "Cache-Control": "s-maxage=60" }).end("1");
    });
    app.get("/", (_req, res) => {
      res.send("unchanged");
    });
    const client = await listen(createServer(app));
    try {
      const expected = {
        "/count": "private",
        "/public": 'public, max-age=60, private="Set-Cookie"',
        "/head": 's-maxage=60, private="Set-Cookie"',
      };
      for (const [path, cacheControl] of Object.entries(expected)) {
        const response = await client.fetch(path);
        assert.ok(hasSessionCookie(response), path);
        assert.equal(response.headers.get("Cache-Control"), cacheControl, path);
      }
      const unchanged = await client.fetch("/");
      assert.equal(unchanged.headers.get("Cache-Control"), null);
    } finally {
      await client.close();
    }
  });

  it("express: a client error response (4xx) still saves the session", async () => {
    const saves = store.saves;
    const response = await client.fetch("/invalid", { method: "POST" });
    assert.equal(response.status, 400);
    assert.ok(hasSessionCookie(response));
    assert.equal(store.saves, saves + 1);
  });

  it("express: a destroyed session clears the cookie", async () => {
    await client.fetch("/login", { method: "POST" });
    const logout = await client.fetch("/logout", { method: "POST" });
    assert.equal(logout.status, 204);
    assert.ok(hasSessionCookie(logout));
    assert.equal(await (await client.fetch("/")).text(), "nobody");
  });

  it("express: a handler that throws, rejects or calls next(err) saves nothing and sends no cookie", async () => {
    await client.fetch("/login", { method: "POST" });
    for (const path of ["/throw", "/reject", "/next-error"]) {
      const saves = store.saves;
      const response = await client.fetch(path, { method: "POST" });
      assert.equal(response.status, 500, path);
      assert.equal(await response.text(), "failed", path);
      assert.equal(hasSessionCookie(response), false, path);
      assert.equal(store.saves, saves, `${path} saves nothing`);
      assert.equal(await (await client.fetch("/")).text(), "mj", path);
    }
  });

  it("express: headers sent before the middleware ran are reported, and the response still completes", async () => {
    await capturingErrors(async (errors) => {
      const saves = store.saves;
      const response = await client.fetch("/early");
      assert.equal(await response.text(), "early late");
      assert.equal(hasSessionCookie(response), false);
      assert.equal(store.saves, saves);
      assert.match(
        String(errors[0]),
        /the session was not saved, because the response's headers went out/,
      );
    });
  });

  it("express: a failed save sends an empty 500 instead of the response, and logs the error", async () => {
    await capturingErrors(async (errors) => {
      store.failing = true;
      try {
        const response = await client.fetch("/login", { method: "POST" });
        assert.equal(response.status, 500);
        assert.equal(response.headers.get("Location"), null);
        assert.equal(await response.text(), "");
        assert.match(String(errors[0]), /the store is down/);
      } finally {
        store.failing = false;
      }
    });
  });
});

describe("node:http", () => {
  it("node:http: a cookie without Secure sent to a host other than localhost is warned about", async () => {
    const sessions = sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createMemorySessionStorage(),
    });
    const client = await listen(createServer((req, res) => {
      sessions(req, res, () => {
        sessionOf(req).set("seen", true);
        res.end("ok");
      });
    }));
    const warnings: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args[0]);
    try {
      const { port } = new URL(client.base);
      await new Promise<void>((resolve, reject) => {
        get({
          host: "127.0.0.1",
          port,
          headers: { host: "shop.example" },
        }, (response) => response.resume().on("end", resolve)).on(
          "error",
          reject,
        );
      });
      assert.match(String(warnings[0]), /without the Secure attribute/);
      assert.match(String(warnings[0]), /"shop\.example"/);
    } finally {
      console.warn = original;
      await client.close();
    }
  });

  it("node:http: a handler that throws saves nothing, and the middleware's promise rejects", async () => {
    const store = recordingStorage();
    const sessions = sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: store.storage,
    });
    const client = await listen(createServer((req, res) => {
      sessions(req, res, () => {
        sessionOf(req).set("user", "admin");
        if (req.url === "/throw") throw new Error("failed after the change");
        res.end("ok");
      }).catch(() => {
        res.statusCode = 500;
        res.end("failed");
      });
    }));
    try {
      const failed = await client.fetch("/throw");
      assert.equal(failed.status, 500);
      assert.equal(hasSessionCookie(failed), false);
      assert.equal(store.saves, 0);
      const ok = await client.fetch("/");
      assert.equal(await ok.text(), "ok");
      assert.ok(hasSessionCookie(ok));
      assert.equal(store.saves, 1);
    } finally {
      await client.close();
    }
  });

  it("express: once the handler sent its response, res.headersSent is true and a second res.send throws, as without the middleware, and the first response arrives whole", async () => {
    const seen: { sentAfterSend?: boolean; secondSend?: unknown } = {};
    const app = memorySessionApp();
    app.get("/", (req, res) => {
      sessionOf(req).set("user", "mj");
      res.send("the first response");
      seen.sentAfterSend = res.headersSent;
      try {
        res.status(500).send("2");
      } catch (error) {
        seen.secondSend = (error as { code?: unknown }).code;
      }
    });
    const client = await listen(createServer(app));
    try {
      const response = await client.fetch("/");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("Content-Length"), "18");
      assert.equal(await response.text(), "the first response");
      assert.ok(hasSessionCookie(response));
      assert.equal(seen.sentAfterSend, true);
      assert.equal(seen.secondSend, "ERR_HTTP_HEADERS_SENT");
      // The connection still serves a next request.
      assert.equal((await client.fetch("/")).status, 200);
    } finally {
      await client.close();
    }
  });

  it("express: a later middleware's wrapper of res.writeHead, as on-headers puts for response-time and morgan, still runs", async () => {
    const app = memorySessionApp();
    app.use((_req, res, next) => {
      const writeHead = res.writeHead;
      res.writeHead = function (this: typeof res, ...args: unknown[]) {
        this.setHeader("X-Response-Time", "1ms");
        return Reflect.apply(writeHead, this, args);
      } as typeof res.writeHead;
      next();
    });
    app.get("/change", (req, res) => {
      sessionOf(req).set("user", "mj");
      res.send("changed");
    });
    app.get("/read", (_req, res) => res.send("read"));
    app.get("/head", (req, res) => {
      sessionOf(req).set("user", "mj");
      res.writeHead(201).end("created");
    });
    const client = await listen(createServer(app));
    try {
      for (const path of ["/change", "/read", "/head"]) {
        const response = await client.fetch(path);
        assert.equal(response.headers.get("X-Response-Time"), "1ms", path);
        assert.equal(hasSessionCookie(response), path !== "/read", path);
        await response.body?.cancel();
      }
    } finally {
      await client.close();
    }
  });

  it("express: a later middleware that writes the head before each write when it sees none sent, as compression does, gets the whole response and logs no error", async () => {
    const app = memorySessionApp();
    app.use((_req, res, next) => {
      const implicit = res as unknown as {
        _header: unknown;
        _implicitHeader(): void;
      };
      for (const name of ["write", "end"] as const) {
        const original = res[name] as (...args: unknown[]) => unknown;
        res[name] = function (this: typeof res, ...args: unknown[]) {
          if (!implicit._header) implicit._implicitHeader();
          return original.apply(this, args);
        } as never;
      }
      next();
    });
    app.get("/", (req, res) => {
      sessionOf(req).set("user", "mj");
      res.write("one ");
      res.write("two ");
      res.end("three");
    });
    const client = await listen(createServer(app));
    try {
      await capturingErrors(async (errors) => {
        const response = await client.fetch("/");
        assert.equal(await response.text(), "one two three");
        assert.ok(hasSessionCookie(response));
        assert.deepEqual(errors.map(String), []);
      });
    } finally {
      await client.close();
    }
  });

  it("express: a chunked cookie's session goes out in several cookies, and the stale ones are expired when it shrinks", async () => {
    const app = express();
    app.use(sessionMiddleware({
      cookie: createCookie("sid", {
        secrets: [SECRET],
        chunked: { maxBytes: 14 * 1024 },
      }),
      storage: createCookieSessionStorage(),
    }));
    app.get("/set/:bytes", (req, res) => {
      sessionOf(req).set("data", "d".repeat(Number(req.params.bytes)));
      res.send("set");
    });
    app.get("/", (req, res) => {
      res.send(String(sessionOf(req).get("data")).length + "");
    });
    const client = await listen(createServer(app));
    try {
      const url = "http://127.0.0.1/";
      const names = async () =>
        (await client.jar.getCookies(url)).map((c) => c.key).sort();
      const grown = await client.fetch("/set/8500");
      assert.equal(grown.headers.getSetCookie().length, 3);
      assert.deepEqual(await names(), ["sid", "sid.1", "sid.2"]);
      assert.equal(await (await client.fetch("/")).text(), "8500");

      await client.fetch("/set/10");
      assert.deepEqual(await names(), ["sid"]);
      assert.equal(await (await client.fetch("/")).text(), "10");
    } finally {
      await client.close();
    }
  });

  it("express: a second session middleware on a request, as a router's for an admin area, fails it with an error that says what to do, and neither saves anything", async () => {
    const main = recordingStorage();
    const admin = recordingStorage();
    const app = express();
    app.use(sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: main.storage,
    }));
    // A router that every request passes through: without the error, the
    // login below went into the admin session, under the admin cookie.
    const adminRouter = express.Router();
    adminRouter.use(sessionMiddleware({
      cookie: createCookie("admin", { secrets: [SECRET], path: "/admin" }),
      storage: admin.storage,
    }));
    adminRouter.get("/admin/", (_req, res) => res.send("admin"));
    app.use(adminRouter);
    app.post("/login", (req, res) => {
      sessionOf(req).regenerateId(true);
      sessionOf(req).set("user", "mj");
      res.redirect(303, "/");
    });
    const errors = answeringErrors(app);
    const client = await listen(createServer(app));
    try {
      const login = await client.fetch("/login", { method: "POST" });
      assert.equal(login.status, 500);
      assert.deepEqual(login.headers.getSetCookie(), []);
      assert.equal(main.saves + admin.saves, 0);
      assert.equal(errors.length, 1);
      assert.match(
        errors[0].message,
        /^sessionMiddleware: this request already has req\.session \(an object \(Session\)\) from a session middleware that ran before this one/,
      );
      assert.match(errors[0].message, /Run one session middleware per request/);
    } finally {
      await client.close();
    }
  });

  it("express: a session middleware mounted twice, or one after another library's req.session, fails the request", async () => {
    const sessions = sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createMemorySessionStorage(),
    });
    const app = express();
    app.use("/twice", sessions);
    app.use("/other", (req, _res, next) => {
      (req as { session?: unknown }).session = {};
      next();
    });
    app.use(sessions);
    app.get("/{*path}", (req, res) => {
      sessionOf(req).set("user", "mj");
      res.send("home");
    });
    const errors = answeringErrors(app);
    const client = await listen(createServer(app));
    try {
      assert.equal((await client.fetch("/")).status, 200, "once is fine");
      for (
        const [path, value] of [["/twice", "Session"], ["/other", "Object"]]
      ) {
        const response = await client.fetch(path);
        assert.equal(response.status, 500, path);
        assert.equal(hasSessionCookie(response), false, path);
        assert.match(
          errors.shift()?.message ?? "",
          new RegExp(
            `already has req\\.session \\(an object \\(${value}\\)\\)`,
          ),
        );
      }
    } finally {
      await client.close();
    }
  });

  it("express: an area with a session cookie of its own works when the app-wide session middleware is kept off its paths", async () => {
    const app = express();
    const appSessions = sessionMiddleware({
      cookie: createCookie("sid", { secrets: [SECRET] }),
      storage: createMemorySessionStorage(),
    });
    app.use((req, res, next) =>
      /^\/admin(\/|$)/.test(req.path) ? next() : appSessions(req, res, next)
    );
    app.use(
      "/admin",
      sessionMiddleware({
        cookie: createCookie("admin", { secrets: [SECRET], path: "/admin" }),
        storage: createMemorySessionStorage(),
      }),
    );
    app.get(["/", "/admin/"], (req, res) => {
      const count = Number(sessionOf(req).get("count") ?? 0) + 1;
      sessionOf(req).set("count", count);
      res.send(String(count));
    });
    const client = await listen(createServer(app));
    try {
      for (
        const [path, count] of [
          ["/", "1"],
          ["/admin/", "1"],
          ["/admin/", "2"],
          ["/", "2"],
        ]
      ) {
        assert.equal(await (await client.fetch(path)).text(), count, path);
      }
      const cookies = await client.jar.getCookies(`${client.base}/admin/`);
      assert.deepEqual(cookies.map((c) => c.key).sort(), ["admin", "sid"]);
    } finally {
      await client.close();
    }
  });
});
