// A Hono app with sessions: a visit counter, a login that regenerates the
// session id, a flash message, and a logout.
//
//   SESSION_SECRET=$(openssl rand -base64 32) deno run -A examples/hono_app.ts
//   (or bun, or node, which serve it through @hono/node-server)

import process from "node:process";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { type SessionEnv, sessionMiddleware } from "../hono.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import type { SessionMiddlewareOptions } from "../middleware.ts";

export function createHonoApp(sessions: SessionMiddlewareOptions) {
  const app = new Hono<SessionEnv>();
  app.use(sessionMiddleware(sessions));

  app.get("/", (c) => {
    const { session } = c.var;
    const visits = Number(session.get("visits") ?? 0) + 1;
    session.set("visits", visits);
    const user = session.get("user") ?? "nobody";
    const message = session.get("message") ?? "";
    return c.text(`${message}Hello ${user}, visit ${visits}`);
  });
  app.post("/login", async (c) => {
    const form = await c.req.formData();
    const user = String(form.get("user") ?? "");
    if (!user) return c.text("Name a user", 400);
    // A new id at login, so that an id planted before is worth nothing.
    c.var.session.regenerateId(true);
    c.var.session.set("user", user);
    c.var.session.flash("message", "Welcome! ");
    return c.redirect("/", 303);
  });
  app.post("/logout", (c) => {
    c.var.session.destroy();
    return c.redirect("/", 303);
  });
  return app;
}

if (import.meta.main) {
  const secret = process.env.SESSION_SECRET;
  if (!secret) {
    throw new Error("Set SESSION_SECRET to 32 or more random bytes.");
  }
  const app = createHonoApp({
    cookie: createCookie("sid", { secrets: [secret], httpOnly: true }),
    storage: createMemorySessionStorage({ ttl: 60 * 60 * 24 }),
  });
  serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 8000 });
  console.log("Listening on http://127.0.0.1:8000/");
}
