// The session layer of a Hono app without the HTTP server, on Deno or Bun:
// app.fetch called with a Request that carries the session cookie, for
// @x/session/hono with the cookie store and an encrypted cookie, for
// @hono/session 0.2.1, and for the app without a session; the same visit
// counter as bench/_peer_server.ts. CPU time per request, the median of 7
// interleaved rounds of 5,000 requests.
//
// Usage: deno run -A bench/hono_layer.ts [--json FILE]
//        bun bench/hono_layer.ts [--json FILE]

import process from "node:process";
import { writeFileSync } from "node:fs";
import { Hono } from "hono";
import { type SessionEnv as HonoSessionEnv, useSession } from "@hono/session";
import { type SessionEnv, sessionMiddleware } from "../hono.ts";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { MAX_AGE, SECRET, SESSION_DATA } from "./_fixtures.ts";

const ours = new Hono<SessionEnv>();
ours.use(sessionMiddleware({
  cookie: createCookie("sid", {
    secrets: [SECRET],
    secure: true,
    maxAge: MAX_AGE,
    encrypt: true,
  }),
  storage: createCookieSessionStorage(),
}));
ours.get("/", (c) => {
  const session = c.var.session;
  if (!session.has("userId")) {
    for (const [key, value] of Object.entries(SESSION_DATA)) {
      session.set(key, value);
    }
  }
  const visits = Number(session.get("count") ?? 0) + 1;
  session.set("count", visits);
  return c.text(`Visit number ${visits}`);
});

const peer = new Hono<HonoSessionEnv>();
peer.use(useSession({ secret: "ab".repeat(32) }));
peer.get("/", async (c) => {
  const data = await c.var.session.get() as Record<string, unknown> | null;
  const visits = Number(data?.count ?? 0) + 1;
  await c.var.session.update({ ...(data ?? SESSION_DATA), count: visits });
  return c.text(`Visit number ${visits}`);
});

const bare = new Hono();
bare.get("/", (c) => c.text("Visit number 1"));

type App = { fetch(request: Request): Response | Promise<Response> };

async function returning(app: App): Promise<Request> {
  const first = await app.fetch(new Request("http://localhost/"));
  const cookie = first.headers.get("Set-Cookie")?.split(";")[0];
  if (cookie === undefined) throw new Error("bench: no session cookie");
  return new Request("http://localhost/", { headers: { Cookie: cookie } });
}

const cases: [string, App, Request, boolean][] = [
  [
    "@x/session/hono, cookie store, encrypted cookie",
    ours,
    await returning(ours),
    true,
  ],
  ["@hono/session 0.2.1", peer, await returning(peer), true],
  ["no session", bare, new Request("http://localhost/"), false],
];
const samples = new Map<string, number[]>();
for (let round = 0; round < 8; round++) {
  for (const [name, app, request, saves] of cases) {
    const calls = 5_000;
    const started = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      const response = await app.fetch(request);
      if (saves && !response.headers.has("Set-Cookie")) {
        throw new Error(`bench: ${name} saved no session`);
      }
    }
    const used = process.cpuUsage(started);
    // The first round warms up.
    if (round > 0) {
      samples.set(name, [
        ...samples.get(name) ?? [],
        (used.user + used.system) / calls,
      ]);
    }
  }
}
const results = [...samples].map(([name, values]) => ({
  name,
  cpuUsPerRequest: values.toSorted((a, b) => a - b)[values.length >> 1],
}));
for (const { name, cpuUsPerRequest } of results) {
  console.log(`${name.padEnd(48)} ${cpuUsPerRequest.toFixed(2)} µs CPU`);
}
const jsonAt = process.argv.indexOf("--json");
if (jsonAt !== -1) {
  writeFileSync(process.argv[jsonAt + 1], JSON.stringify(results, null, 2));
}
