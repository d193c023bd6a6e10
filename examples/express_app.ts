// An Express 5 app with sessions: a visit counter, a login that regenerates
// the session id, a flash message, and a logout.
//
//   SESSION_SECRET=$(openssl rand -base64 32) node examples/express_app.ts
//   (or deno run -A, or bun)

import process from "node:process";
import express from "express";
import { sessionMiddleware } from "../express.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import type { SessionMiddlewareOptions } from "../middleware.ts";
import type { Session } from "../session.ts";

// express-session's types declare `req.session` as its own; this app does
// not load them, so it gives `req.session` the type of ours.
declare global {
  namespace Express {
    interface Request {
      session: Session;
    }
  }
}

export function createExpressApp(sessions: SessionMiddlewareOptions) {
  const app = express();
  app.use(sessionMiddleware(sessions));
  app.use(express.urlencoded());

  app.get("/", (req, res) => {
    const visits = Number(req.session.get("visits") ?? 0) + 1;
    req.session.set("visits", visits);
    const user = req.session.get("user") ?? "nobody";
    const message = req.session.get("message") ?? "";
    res.type("text/plain").send(`${message}Hello ${user}, visit ${visits}`);
  });
  app.post("/login", (req, res) => {
    const user = String(req.body?.user ?? "");
    if (!user) {
      res.status(400).send("Name a user");
      return;
    }
    // A new id at login, so that an id planted before is worth nothing.
    req.session.regenerateId(true);
    req.session.set("user", user);
    req.session.flash("message", "Welcome! ");
    res.redirect(303, "/");
  });
  app.post("/logout", (req, res) => {
    req.session.destroy();
    res.redirect(303, "/");
  });
  return app;
}

if (import.meta.main) {
  const secret = process.env.SESSION_SECRET;
  if (!secret) {
    throw new Error("Set SESSION_SECRET to 32 or more random bytes.");
  }
  createExpressApp({
    cookie: createCookie("sid", { secrets: [secret], httpOnly: true }),
    storage: createMemorySessionStorage({ ttl: 60 * 60 * 24 }),
  }).listen(8000, "127.0.0.1", () => {
    console.log("Listening on http://127.0.0.1:8000/");
  });
}
