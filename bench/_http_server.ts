// The server of the whole-request benchmark: Deno.serve with a hello-world
// handler, bare or wrapped in withSession. Prints "listening <port>" once it
// accepts connections, and stops when its stdin closes.
//
// Usage: deno run -A bench/_http_server.ts MODE [folder]
//
// Modes: bare; cookie, fs and sqlite, a visit counter that changes the session on
// every request; cookie-read, a page that only reads the session.

import { withSession } from "../middleware.ts";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { DatabaseSync } from "node:sqlite";
import { MAX_AGE, SECRET, SESSION_DATA } from "./_fixtures.ts";

const [mode, folder] = Deno.args;

function hello(): Response {
  return new Response("Hello, world!");
}

function handlerFor(mode: string): Deno.ServeHandler {
  if (mode === "bare") return hello;
  const cookie = createCookie("sid", {
    secrets: [SECRET],
    secure: true,
    maxAge: MAX_AGE,
  });
  const storage = mode === "cookie" || mode === "cookie-read"
    ? createCookieSessionStorage()
    : mode === "fs"
    ? createFsSessionStorage(folder)
    : mode === "sqlite"
    ? createSqliteSessionStorage(new DatabaseSync(`${folder}/sessions.db`))
    : undefined;
  if (storage === undefined) {
    throw new Error(
      `_http_server: unknown mode "${mode}"; use bare, cookie, cookie-read, ` +
        "fs or sqlite",
    );
  }
  const counts = mode !== "cookie-read";
  return withSession({ cookie, storage }, (_request, session) => {
    // The first request logs the user in; the load generator then sends
    // the cookie it got back with every request.
    if (!session.has("userId")) {
      for (const [key, value] of Object.entries(SESSION_DATA)) {
        session.set(key, value);
      }
    }
    // A visit counter changes the session on every request, so every
    // response verifies, saves and signs a cookie; a page that only reads
    // the session verifies the cookie and sends none.
    if (counts) session.set("count", Number(session.get("count") ?? 0) + 1);
    else if (typeof session.get("name") !== "string") {
      throw new Error("_http_server: the session lost its data");
    }
    return hello();
  });
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`listening ${port}`),
}, handlerFor(mode));

// Stop when the driver closes our stdin, or dies.
for await (const _ of Deno.stdin.readable) { /* wait for the end */ }
await server.shutdown();
