// The demo application: a visit counter, a login form, flash messages, a
// logout and a list of the user's sessions, as one fetch handler that Deno.serve, Bun.serve and
// @hono/node-server all serve. demo.ts picks the cookie, the store and the
// server; this file is only about what a session-backed app does.

import { commitSession, readSession, withSession } from "../middleware.ts";
import { createCsrfProtection, type CsrfProtection } from "../csrf.ts";
import type { Cookie } from "../cookie.ts";
import type { Session, SessionIndex, SessionStorage } from "../session.ts";

/**
 * What the demo needs: the session cookie, the store, the store's per-user
 * index (created with `indexBy: "user"`) when it keeps one, and the mode.
 */
export interface DemoOptions {
  cookie: Cookie;
  storage: SessionStorage;
  index?: SessionIndex;
  /** Whether a refused forgery's 403 says why (never in production). */
  development?: boolean;
}

const MAX_NAME_LENGTH = 40;
// A login form is tiny; refuse anything bigger before reading it.
const MAX_FORM_BYTES = 4096;

/**
 * Creates the demo's request handler.
 *
 * - `GET /` counts the visits of the session, shows the flash message of
 *   the previous request, and a login form or who is logged in.
 * - `POST /login` logs in under any name, with a new session id.
 * - `POST /logout` destroys the session.
 * - `GET /sessions` lists the sessions of the user logged in,
 *   `POST /sessions/logout` ends one of them by its handle, and
 *   `POST /sessions/logout-others` ends all of them but this one.
 * - `HEAD` of either page gets the status and headers of its `GET`, but
 *   its session is read and never saved: no visit counted, no flash used
 *   up, no session started, no `Set-Cookie`.
 *
 * Every POST needs the page's CSRF token and a same-origin request, and a
 * body of at most 4096 bytes. A same-origin form whose token is stale
 * leads home with a note; any other refusal is a 403.
 */
export function createDemoApp(
  options: DemoOptions,
): (request: Request, info?: unknown) => Promise<Response> {
  const sessions = { cookie: options.cookie, storage: options.storage };
  const csrf = createCsrfProtection({ development: options.development });

  const protectedApp = csrf.protect<unknown>(
    async (request, session) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/") return home(session, csrf);
      if (pathname === "/login") return await login(request, session);
      if (pathname === "/sessions") {
        return await sessionList(options, session, csrf);
      }
      if (pathname === "/sessions/logout") {
        return await logOutOne(request, options, session);
      }
      if (pathname === "/sessions/logout-others") {
        return await logOutOthers(options, session);
      }
      session.destroy();
      // The flash that says goodbye lives in a new, empty session. Sending
      // its cookie from here means withSession sends no cookie of its own
      // for the destroyed one; it still deletes the destroyed one's data.
      const fresh = await sessions.storage.read(null);
      fresh.flash("message", "You are logged out.");
      return await commitSession(fresh, redirectHome(), sessions);
    },
  );

  const app = withSession(sessions, async (request, session, info) => {
    const response = await protectedApp(request, session, info);
    // A refused form from this site's own page is a stale one, left open
    // in another tab or behind the back button while the session id
    // changed: lead home to a fresh page instead of a bare 403. Only the
    // origin check can refuse another site's forms, and they keep the 403.
    if (
      response.status === 403 &&
      request.headers.get("Sec-Fetch-Site") === "same-origin"
    ) {
      await response.body?.cancel();
      session.flash(
        "error",
        "That form was out of date: the session changed after its page " +
          "was shown, by a login or logout in another tab or by expiring. " +
          "Here is a fresh page; try again.",
      );
      return redirectHome();
    }
    return response;
  });

  // A HEAD shows no page, so it must change nothing the page shows: a link
  // checker, a monitoring probe or `curl -I` would otherwise use up the
  // flash message a user is about to see.
  const peek = async (request: Request, info?: unknown) =>
    await protectedApp(request, await readSession(request, sessions), info);

  return async (request, info) => {
    const { pathname } = new URL(request.url);
    const allowed = ROUTES.get(pathname);
    // Only the app's pages read the session: any other request, such as
    // one for a favicon, must not use up the flash message a page shows.
    if (allowed === undefined) {
      if (pathname === "/favicon.ico") {
        return new Response(null, { status: 204 });
      }
      return new Response("Not Found\n", { status: 404 });
    }
    if (!allowed.includes(request.method)) {
      return new Response("Method Not Allowed\n", {
        status: 405,
        headers: { Allow: allowed.join(", ") },
      });
    }
    try {
      if (request.method === "POST") {
        const body = await readLimited(request, MAX_FORM_BYTES);
        if (body === undefined) {
          return new Response("Content Too Large\n", { status: 413 });
        }
        // The rest of the app reads the buffered copy; its length is
        // what was read, however the body arrived.
        const headers = new Headers(request.headers);
        headers.delete("Content-Length");
        headers.delete("Transfer-Encoding");
        request = new Request(request.url, {
          method: request.method,
          headers,
          body,
        });
      }
      if (request.method === "HEAD") return await peek(request, info);
      return await app(request, info);
    } catch (error) {
      console.error(error);
      return new Response("Internal Server Error\n", { status: 500 });
    }
  };
}

const ROUTES = new Map([
  ["/", ["GET", "HEAD"]],
  ["/login", ["POST"]],
  ["/logout", ["POST"]],
  ["/sessions", ["GET", "HEAD"]],
  ["/sessions/logout", ["POST"]],
  ["/sessions/logout-others", ["POST"]],
]);

function home(session: Session, csrf: CsrfProtection): Response {
  const visits = Number(session.get("visits") ?? 0) + 1;
  session.set("visits", visits);
  const user = session.get("user");
  const token = tokenField(session, csrf);
  const account = typeof user === "string"
    ? `<p>Logged in as <strong id="user">${escapeHtml(user)}</strong>.
      <a href="/sessions">Your sessions</a></p>
    <form method="post" action="/logout">${token}<button>Log out</button></form>`
    : `<form method="post" action="/login">${token}
      <label>Name <input name="username" required maxlength="${MAX_NAME_LENGTH}"
        autocomplete="username"></label>
      <button>Log in</button>
    </form>`;
  return htmlPage(`${flashOf(session)}
  <p>This session has seen this page <strong id="visits">${visits}</strong>
    time${visits === 1 ? "" : "s"}.</p>
  ${account}`);
}

/**
 * The hidden field with the session's CSRF token. The token is the
 * session's, so forms on a page rendered before the login changed the id
 * are refused: such a form from this site's own page leads home, to fresh
 * ones.
 */
function tokenField(session: Session, csrf: CsrfProtection): string {
  return `<input type="hidden" name="${csrf.field}" value="${
    csrf.token(session)
  }">`;
}

/** The flash messages of the previous request, as HTML. */
function flashOf(session: Session): string {
  const message = session.get("message");
  const error = session.get("error");
  return [
    typeof message === "string"
      ? `<p id="flash" role="status">${escapeHtml(message)}</p>`
      : "",
    typeof error === "string"
      ? `<p id="flash" class="error" role="alert">${escapeHtml(error)}</p>`
      : "",
  ].join("");
}

function htmlPage(body: string): Response {
  return new Response(
    `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>@x/session demo</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem; }
    #flash { padding: .5rem 1rem; background: #e6f4ea; border-radius: .25rem; }
    #flash.error { background: #fce8e6; }
  </style>
</head>
<body>
  <h1>@x/session demo</h1>
  ${body}
</body>
</html>
`,
    {
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        // The page shows one client's session: no cache may keep it.
        "Cache-Control": "no-store",
        "Content-Security-Policy":
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      },
    },
  );
}

async function sessionList(
  { index }: DemoOptions,
  session: Session,
  csrf: CsrfProtection,
): Promise<Response> {
  const user = session.get("user");
  if (typeof user !== "string") return redirectHome();
  if (index === undefined) {
    return htmlPage(`<p>This store keeps no list of sessions: the cookie
    store holds each session in its browser only.</p>
  <p><a href="/">Back</a></p>`);
  }
  const current = index.handleOf(session);
  const token = tokenField(session, csrf);
  const rows = (await index.listSessions(user)).map((listed) => {
    const mine = listed.handle === current;
    // A handle names a session without giving away its id: it can sit in
    // the page.
    const end = `<form method="post" action="/sessions/logout">${token}
        <input type="hidden" name="handle" value="${listed.handle}">
        <button>Log out</button></form>`;
    return `<tr${mine ? ' class="current"' : ""}>
      <td>${timeOf(listed.createdAt)}</td>
      <td>${timeOf(listed.lastSeenAt)}</td>
      <td>${mine ? "this session" : end}</td>
    </tr>`;
  });
  return htmlPage(`${flashOf(session)}
  <h2>Your sessions</h2>
  <table id="sessions">
    <thead><tr><th>Created</th><th>Last seen</th><th></th></tr></thead>
    <tbody>${rows.join("")}</tbody>
  </table>
  <form method="post" action="/sessions/logout-others">${token}<button>Log out other sessions</button></form>
  <p><a href="/">Back</a></p>`);
}

async function logOutOne(
  request: Request,
  { index }: DemoOptions,
  session: Session,
): Promise<Response> {
  const user = session.get("user");
  if (typeof user !== "string" || index === undefined) return redirectHome();
  const handle = await readField(request, "handle") ?? "";
  // This session logs out through the home page's form, which also starts
  // a new one. destroySession ends a session of this user only: a handle
  // of another user's session, posted by hand, ends nothing.
  const message = handle === index.handleOf(session)
    ? "This is the session you are using: log out from the home page."
    : await index.destroySession(user, handle)
    ? "Logged out that session."
    : "That session had ended already.";
  session.flash("message", message);
  return new Response(null, {
    status: 303,
    headers: { Location: "/sessions" },
  });
}

async function logOutOthers(
  { index }: DemoOptions,
  session: Session,
): Promise<Response> {
  const user = session.get("user");
  if (typeof user !== "string" || index === undefined) return redirectHome();
  const ended = await index.destroySessions(user, { except: session });
  session.flash(
    "message",
    `Logged out ${ended} other session${ended === 1 ? "" : "s"}.`,
  );
  return new Response(null, {
    status: 303,
    headers: { Location: "/sessions" },
  });
}

function timeOf(time: number | null): string {
  return time === null ? "unknown" : new Date(time).toISOString();
}

async function login(request: Request, session: Session): Promise<Response> {
  const name = (await readField(request, "username"))?.trim() ?? "";
  if (name === "" || name.length > MAX_NAME_LENGTH) {
    session.flash(
      "error",
      `Enter a name of 1 to ${MAX_NAME_LENGTH} characters to log in.`,
    );
    return redirectHome();
  }
  // A new id at login, and the old one deleted: an id planted in the
  // browser before login (session fixation) is worth nothing after it.
  session.regenerateId(true);
  session.set("user", name);
  session.flash("message", `Welcome, ${name}! You are logged in.`);
  return redirectHome();
}

async function readField(
  request: Request,
  field: string,
): Promise<string | undefined> {
  // The body was read and limited already: this reads a buffer.
  const text = await request.text();
  return new URLSearchParams(text).get(field) ?? undefined;
}

/**
 * The request body, or `undefined` when it is longer than `limit` bytes.
 * A declared length over the limit is refused before a byte is read; a
 * body sent in chunks is counted as it arrives and cancelled as soon as
 * it passes the limit, so no more than `limit` bytes are ever held.
 */
async function readLimited(
  request: Request,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && !(Number(declared) <= limit)) return undefined;
  const body = new Uint8Array(limit);
  let length = 0;
  if (request.body === null) return body.subarray(0, 0);
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return body.slice(0, length);
    if (length + value.byteLength > limit) {
      await reader.cancel();
      return undefined;
    }
    body.set(value, length);
    length += value.byteLength;
  }
}

// 303 See Other: the browser follows a form POST with a GET, so a reload
// does not post the form again.
function redirectHome(): Response {
  return new Response(null, { status: 303, headers: { Location: "/" } });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
