// React Router loaders and actions with sessions: a visit counter, a login
// that regenerates the session id, a flash message, and a logout. The
// routes are data routes, run by React Router's own request handling
// (createStaticHandler); a framework-mode app calls the same getSession,
// commitSession and destroySession in its route modules.
//
//   SESSION_SECRET=$(openssl rand -base64 32) deno run -A examples/react_router_app.ts
//   (or bun, or node, which serve it through @hono/node-server)

import process from "node:process";
import { serve } from "@hono/node-server";
import { createStaticHandler, data, redirect } from "react-router";
import { createReactRouterSessionStorage } from "../react_router.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import type { SessionMiddlewareOptions } from "../middleware.ts";

export function createReactRouterApp(options: SessionMiddlewareOptions) {
  const { getSession, commitSession, destroySession } =
    createReactRouterSessionStorage<
      { visits: number; user: string },
      { message: string }
    >(options);

  const handler = createStaticHandler([{
    id: "home",
    path: "/",
    async loader({ request }) {
      const session = await getSession(request.headers.get("Cookie"));
      const visits = (session.get("visits") ?? 0) + 1;
      session.set("visits", visits);
      const user = session.get("user") ?? "nobody";
      const message = session.get("message") ?? "";
      return data(`${message}Hello ${user}, visit ${visits}`, {
        headers: {
          "Set-Cookie": await commitSession(session),
          // The page shows one client's session, and its cookie goes with
          // it: no shared cache may keep it for others.
          "Cache-Control": "private",
        },
      });
    },
  }, {
    id: "login",
    path: "/login",
    async action({ request }) {
      const user = String((await request.formData()).get("user") ?? "");
      if (!user) return data("Name a user", { status: 400 });
      const session = await getSession(request.headers.get("Cookie"));
      // A new id at login, so that an id planted before is worth nothing.
      session.regenerateId(true);
      session.set("user", user);
      session.flash("message", "Welcome! ");
      return redirect("/", {
        status: 303,
        headers: {
          "Set-Cookie": await commitSession(session),
          "Cache-Control": "private",
        },
      });
    },
  }, {
    id: "logout",
    path: "/logout",
    async action({ request }) {
      const session = await getSession(request.headers.get("Cookie"));
      return redirect("/", {
        status: 303,
        headers: {
          "Set-Cookie": await destroySession(session),
          "Cache-Control": "private",
        },
      });
    },
  }]);

  // Answers with the text a loader or an action returned, with its headers,
  // or with the redirect an action returned.
  return async (request: Request): Promise<Response> => {
    const result = await handler.query(request);
    if (result instanceof Response) return result;
    const id = result.matches.at(-1)?.route.id ?? "";
    const text = result.actionData?.[id] ?? result.loaderData[id];
    // An unknown path is a 404, but a loader or an action that threw (a
    // store that is down, say) a 500 and a POST to a page a 405.
    if (result.errors) {
      if (result.statusCode >= 500) console.error(result.errors);
      return new Response(`Error ${result.statusCode}`, {
        status: result.statusCode,
      });
    }
    if (text === undefined) return new Response("Not found", { status: 404 });
    return new Response(String(text), {
      status: result.statusCode,
      headers: result.actionHeaders[id] ?? result.loaderHeaders[id],
    });
  };
}

if (import.meta.main) {
  const secret = process.env.SESSION_SECRET;
  if (!secret) {
    throw new Error("Set SESSION_SECRET to 32 or more random bytes.");
  }
  const fetch = createReactRouterApp({
    cookie: createCookie("sid", { secrets: [secret], httpOnly: true }),
    storage: createMemorySessionStorage({ ttl: 60 * 60 * 24 }),
  });
  serve({ fetch, hostname: "127.0.0.1", port: 8000 });
  console.log("Listening on http://127.0.0.1:8000/");
}
