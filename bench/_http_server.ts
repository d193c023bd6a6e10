// The server of the whole-request benchmark: Deno.serve with a hello-world
// handler, bare or wrapped in withSession. Prints "listening <port>" once it
// accepts connections, and stops when its stdin closes.
//
// Usage: deno run -A bench/_http_server.ts MODE [folder]
//
// Modes: bare; cookie, fs and sqlite, a visit counter that changes the session on
// every request; cookie-read, a page that only reads the session;
// sqlite-floor, the least a SQLite session request does with no session
// layer: read the Cookie header, one SELECT and one upsert of the counted
// record, and a Set-Cookie header signed once at the start.

import { withSession } from "../middleware.ts";
import { createCookie } from "../cookie.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { DatabaseSync } from "node:sqlite";
import {
  countedRecord,
  MAX_AGE,
  SECRET,
  SESSION_DATA,
  STORED_RECORD,
} from "./_fixtures.ts";

const [mode, folder] = Deno.args;

function hello(): Response {
  return new Response("Hello, world!");
}

async function handlerFor(mode: string): Promise<Deno.ServeHandler> {
  if (mode === "bare") return hello;
  const cookie = createCookie("sid", {
    secrets: [SECRET],
    secure: true,
    maxAge: MAX_AGE,
  });
  if (mode === "sqlite-floor") {
    const database = new DatabaseSync(`${folder}/floor.db`);
    database.exec("PRAGMA journal_mode = WAL");
    database.exec("PRAGMA synchronous = NORMAL");
    database.exec(
      "CREATE TABLE floor (id TEXT PRIMARY KEY, data TEXT NOT NULL)",
    );
    const select = database.prepare("SELECT data FROM floor WHERE id = ?");
    const upsert = database.prepare(
      "INSERT INTO floor (id, data) VALUES (?, ?) ON CONFLICT (id) DO " +
        "UPDATE SET data = excluded.data",
    );
    upsert.run("floor", STORED_RECORD);
    // A signed value as long as a session id's.
    const setCookie = await cookie.serialize("x".repeat(32));
    return (request) => {
      // The session layer's first step; the floor's row stands for it.
      request.headers.get("cookie");
      const row = select.get("floor") as { data: string };
      upsert.run("floor", countedRecord(row.data));
      return new Response("Hello, world!", {
        headers: { "set-cookie": setCookie },
      });
    };
  }
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
        "fs, sqlite or sqlite-floor",
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
}, await handlerFor(mode));

// Stop when the driver closes our stdin, or dies.
for await (const _ of Deno.stdin.readable) { /* wait for the end */ }
await server.shutdown();
