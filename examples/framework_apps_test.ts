// check: runtimes deno bun node26

// The example apps of examples/hono_app.ts, express_app.ts and
// react_router_app.ts, each walked through the same flow over HTTP with
// tough-cookie's cookie jar, as a browser would: a counter, a login with a
// flash message, and a logout. No response that sets the session cookie
// may be stored by a shared cache.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { CookieJar } from "tough-cookie";
import { createHonoApp } from "./hono_app.ts";
import { createExpressApp } from "./express_app.ts";
import { createReactRouterApp } from "./react_router_app.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";

const SECRET = "a test secret that is at least 32 bytes long";

function sessions() {
  return {
    cookie: createCookie("sid", { secrets: [SECRET], httpOnly: true }),
    storage: createMemorySessionStorage(),
  };
}

async function baseOf(server: Server): Promise<string> {
  if (!server.listening) {
    await new Promise((resolve) => server.once("listening", resolve));
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function walk(base: string): Promise<void> {
  const jar = new CookieJar();
  const request = async (path: string, body?: Record<string, string>) => {
    const url = base + path;
    const cookie = await jar.getCookieString(url);
    const response = await fetch(url, {
      method: body ? "POST" : "GET",
      body: body ? new URLSearchParams(body) : undefined,
      headers: cookie ? { cookie } : {},
      redirect: "manual",
    });
    for (const setCookie of response.headers.getSetCookie()) {
      await jar.setCookie(setCookie, url);
    }
    if (response.headers.has("Set-Cookie")) {
      assert.match(
        response.headers.get("Cache-Control") ?? "",
        /(^|,)\s*(private|no-store)\s*(,|$)/,
        `${path}: a response with the session cookie is kept from shared caches`,
      );
    }
    return response;
  };
  const page = async (path: string) => await (await request(path)).text();

  assert.equal(await page("/"), "Hello nobody, visit 1");
  assert.equal(await page("/"), "Hello nobody, visit 2");
  const before = await jar.getCookieString(base);

  const login = await request("/login", { user: "mj" });
  assert.equal(login.status, 303);
  assert.equal(new URL(login.headers.get("Location")!, base).pathname, "/");
  assert.notEqual(await jar.getCookieString(base), before, "a new id");
  assert.equal(await page("/"), "Welcome! Hello mj, visit 3");
  assert.equal(await page("/"), "Hello mj, visit 4");

  const refused = await request("/login", { user: "" });
  assert.equal(refused.status, 400);
  await refused.body?.cancel();

  const logout = await request("/logout", {});
  assert.equal(logout.status, 303);
  assert.equal(await jar.getCookieString(base), "");
  assert.equal(await page("/"), "Hello nobody, visit 1");
}

async function closing(server: Server, fn: () => Promise<void>) {
  try {
    await fn();
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Sessions whose store is down: every read and save rejects. */
function brokenSessions() {
  const down = () => Promise.reject(new Error("the store is down"));
  return { ...sessions(), storage: { read: down, save: down } };
}

/** Runs `fn` with console.error recorded instead of printed. */
async function quietly(fn: () => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args[0]);
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return errors;
}

describe("example apps", () => {
  it("example apps: the Hono app counts, logs in with a flash message and logs out", async () => {
    const app = createHonoApp(sessions());
    const server = serve({
      fetch: app.fetch,
      hostname: "127.0.0.1",
      port: 0,
    }) as Server;
    await closing(server, async () => await walk(await baseOf(server)));
  });

  it("example apps: the Express app counts, logs in with a flash message and logs out", async () => {
    const server = createServer(createExpressApp(sessions()));
    server.listen(0, "127.0.0.1");
    await closing(server, async () => await walk(await baseOf(server)));
  });

  it("example apps: the React Router app counts, logs in with a flash message and logs out", async () => {
    const server = serve({
      fetch: createReactRouterApp(sessions()),
      hostname: "127.0.0.1",
      port: 0,
    }) as Server;
    await closing(server, async () => await walk(await baseOf(server)));
  });

  it("example apps: a store that is down gives a 500 in each app, never a page or a 404", async () => {
    const hono = createHonoApp(brokenSessions());
    const reactRouter = createReactRouterApp(brokenSessions());
    const express = createServer(createExpressApp(brokenSessions()));
    express.listen(0, "127.0.0.1");
    await closing(express, async () => {
      await quietly(async () => {
        const responses = {
          hono: await hono.fetch(new Request("http://localhost/")),
          "react router": await reactRouter(new Request("http://localhost/")),
          express: await fetch(await baseOf(express)),
        };
        for (const [app, response] of Object.entries(responses)) {
          assert.equal(response.status, 500, app);
          await response.body?.cancel();
        }
      });
    });
    const unknown = await reactRouter(new Request("http://localhost/nowhere"));
    assert.equal(unknown.status, 404);
    await unknown.body?.cancel();
  });
});
