/**
 * Sessions for [Express](https://expressjs.com) 5, Connect-style
 * `(req, res, next)` servers and plain `node:http`:
 * {@linkcode sessionMiddleware} puts the request's session on `req.session`
 * and saves it before the response's headers go out.
 *
 * @example A visit counter
 * ```ts
 * import express from "express";
 * import { sessionMiddleware } from "@x/session/express";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import type { Session } from "@x/session/session";
 *
 * const app = express();
 * app.use(sessionMiddleware({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }));
 * app.get("/", (req, res) => {
 *   // Or type req.session for the whole app: see sessionMiddleware.
 *   const session = (req as unknown as { session: Session }).session;
 *   const count = Number(session.get("count") ?? 0) + 1;
 *   session.set("count", count);
 *   res.send(`Visit number ${count}`);
 * });
 * // app.listen(8000);
 * ```
 *
 * @module
 */

import type { Session } from "./session.ts";
import type { SessionMiddlewareOptions } from "./middleware.ts";
import { checkSessionOptions, closeSession, openSession } from "./_adapter.ts";

export type { SessionMiddlewareOptions } from "./middleware.ts";

/**
 * The parts of a Node.js `IncomingMessage` (Express's `req`) that
 * {@linkcode sessionMiddleware} reads. It adds `session` to the object.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from "node:http";
 * import type { NodeRequest } from "@x/session/express";
 *
 * const fits = (req: IncomingMessage): NodeRequest => req;
 * ```
 */
export interface NodeRequest {
  /** The request headers: `cookie` carries the session cookie. */
  headers: { cookie?: string | undefined; host?: string | undefined };
}

/**
 * The parts of a Node.js `ServerResponse` (Express's `res`) that
 * {@linkcode sessionMiddleware} uses. It wraps `writeHead`, `write`, `end`
 * and `flushHeaders` so that the headers wait for the session's save.
 *
 * @example
 * ```ts
 * import type { ServerResponse } from "node:http";
 * import type { NodeResponse } from "@x/session/express";
 *
 * const fits = (res: ServerResponse): NodeResponse => res;
 * ```
 */
export interface NodeResponse {
  /** The status code to send. */
  statusCode: number;
  /** Whether the headers went out. */
  readonly headersSent: boolean;
  /** Reads a header to send. */
  getHeader(name: string): number | string | string[] | undefined;
  /** Sets a header to send. */
  setHeader(name: string, value: number | string | readonly string[]): unknown;
  /** The names of the headers to send. */
  getHeaderNames(): string[];
  /** Removes a header to send. */
  removeHeader(name: string): void;
  /** Sends the status line and headers. */
  writeHead(...args: never[]): unknown;
  /** Sends part of the body. */
  write(...args: never[]): boolean;
  /** Ends the response. */
  end(...args: never[]): unknown;
  /** Sends the headers at once. */
  flushHeaders?(): void;
}

/**
 * A Connect-style middleware: `(req, res, next)`.
 *
 * @example
 * ```ts
 * import type { NodeMiddleware } from "@x/session/express";
 *
 * const noop: NodeMiddleware = async (_req, _res, next) => {
 *   await next();
 * };
 * ```
 */
export type NodeMiddleware = (
  req: NodeRequest,
  res: NodeResponse,
  next: (error?: unknown) => unknown,
) => Promise<void>;

type Method = (...args: unknown[]) => unknown;

/**
 * Creates a middleware for Express 5, Connect and `node:http` that reads the
 * request's session and puts it on `req.session`, then saves it and sets its
 * `Set-Cookie` header (one with `Max-Age=0` when the session was destroyed)
 * before the response's headers go out, whichever call sends them:
 * `res.send`, `res.json`, `res.redirect`, streaming writes, `res.end` with
 * or without a body, `res.writeHead` or `res.flushHeaders`. The save is
 * asynchronous: the first of these calls waits for it, and the calls after
 * it are replayed in order once it is done. Meanwhile the response counts
 * as sent, as it would without the middleware: `res.headersSent` is true
 * and header changes throw. So change the session before the response
 * starts: a change made after the first write is not saved.
 * A response that gets the session cookie is marked private for shared
 * caches, as `commitSession` of `@x/session/middleware` describes.
 *
 * Nothing is saved, and no cookie sent, when the request failed: when
 * `next` throws or returns a rejected promise (a `node:http` handler), or
 * when the response is a server error (status 500 or more), which is what
 * Express sends when a handler throws or calls `next(err)`, since Express
 * tells a middleware of no error that happens after it.
 *
 * When the save fails, the response the handler built is not sent: the
 * client gets an empty 500, and the error is logged with `console.error`.
 * When the headers went out before the session could be saved (another
 * middleware sent them, say), the session is not saved, and an error that
 * names the cause is logged with `console.error`.
 *
 * One session middleware runs per request: one that finds `req.session`
 * already set (by a second session middleware, the same one mounted twice,
 * or express-session) rejects before calling `next`, which Express turns
 * into a 500, and nothing is saved, since two would each save their own
 * session while the handlers saw only the one that ran last. Give an area
 * with a session cookie of its own, such as an admin area, a middleware on
 * its paths, and keep the app-wide one off them.
 *
 * In TypeScript, type `req.session` once for the whole app, as
 * express-session's types do for theirs (an app loads one or the other):
 * `declare global { namespace Express { interface Request { session: Session } } }`.
 *
 * @example With `node:http`
 * ```ts
 * import { createServer } from "node:http";
 * import { sessionMiddleware } from "@x/session/express";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import type { Session } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const sessions = sessionMiddleware({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * });
 * const server = createServer((req, res) => {
 *   sessions(req, res, () => {
 *     const { session } = req as typeof req & { session: Session };
 *     session.set("seen", true);
 *     res.end("Hello");
 *   }).catch((error) => {
 *     console.error(error);
 *     res.statusCode = 500;
 *     res.end();
 *   });
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const response = await fetch(`http://127.0.0.1:${port}/`);
 * assert.match(response.headers.get("Set-Cookie")!, /^sid=/);
 * await response.text();
 * server.close();
 * ```
 *
 * @param options The session cookie and the storage.
 * @returns The middleware, for `app.use()`.
 * @throws {TypeError} When the cookie is not signed or the storage is not a
 * session storage.
 */
export function sessionMiddleware(
  options: SessionMiddlewareOptions,
): NodeMiddleware {
  checkSessionOptions("sessionMiddleware", options);
  return async (req, res, next) => {
    const session = await openSession(
      requestOf(req),
      "req.session",
      (req as { session?: unknown }).session,
      options,
    );
    (req as { session?: Session }).session = session;
    let failed = false;
    deferHeaders(res, () => failed, session, options);
    try {
      await next();
    } catch (error) {
      failed = true;
      throw error;
    }
  };
}

// readSession wants a Request: one with the cookie, and the host for the
// warning about cookies sent without Secure. Its path does not matter.
function requestOf(req: NodeRequest): Request {
  const { cookie, host } = req.headers;
  const init: RequestInit = {
    headers: cookie === undefined ? {} : { cookie },
  };
  try {
    return new Request(`http://${host ?? "localhost"}/`, init);
  } catch {
    return new Request("http://localhost/", init);
  }
}

function deferHeaders(
  res: NodeResponse,
  failed: () => boolean,
  session: Session,
  options: SessionMiddlewareOptions,
): void {
  const target = res as unknown as Record<string, Method>;
  const names = ["writeHead", "write", "end", "flushHeaders"] as const;
  const originals = new Map<string, Method>();
  const queue: Array<[Method, unknown[]]> = [];
  let saving = false;
  // Wrappers put over ours after the middleware ran stay, such as the
  // writeHead of on-headers (response-time, morgan), and ours then pass
  // their calls through.
  const wrappers = new Map<string, Method>();
  let held = true;

  // From the first held call on, the response looks sent, as it would be
  // without the middleware: res.headersSent is true, header changes throw,
  // and the status sent is the one it had then. Else an error handler, or a
  // second res.send, would rewrite the head of the response held back, whose
  // body then no longer matches its Content-Length. Node's response (Deno's
  // and Bun's too) counts as sent once its `_header` is set, a plain field:
  // an accessor defined on the response instead made Node's own work on it
  // take a third more CPU per request (35 µs of 105, measured with
  // bench/http_peers.ts). Bun's headersSent reads something else, and gets
  // the accessor.
  let status = 0;
  const freeze = () => {
    status = res.statusCode;
    const internal = res as unknown as { _header?: unknown };
    const header = internal._header;
    internal._header = "(held by the session middleware)";
    if (res.headersSent) return () => internal._header = header;
    Object.defineProperty(res, "headersSent", {
      get: () => true,
      configurable: true,
    });
    return () => {
      internal._header = header;
      delete (res as { headersSent?: boolean }).headersSent;
    };
  };
  let thaw = () => {};
  const restore = () => {
    held = false;
    for (const [name, method] of originals) {
      if (target[name] === wrappers.get(name)) target[name] = method;
    }
    thaw();
    res.statusCode = status;
  };
  const replay = () => {
    restore();
    for (const [method, args] of queue) {
      // What a call would have thrown, such as a second res.send(), now
      // happens after the handler returned: log it rather than crash.
      try {
        method.apply(res, args);
      } catch (error) {
        console.error(error);
      }
    }
  };

  const save = async (sentBefore: boolean) => {
    if (failed() || status >= 500) return replay();
    if (sentBefore) {
      console.error(
        new Error(
          "@x/session: the session was not saved, because the response's " +
            "headers went out before the session middleware could add its " +
            "cookie. Put sessionMiddleware before the middleware that sends " +
            "them, and send responses through res.writeHead, res.write or " +
            "res.end.",
        ),
      );
      return replay();
    }
    try {
      const headers = new Headers();
      for (const name of ["Set-Cookie", "Cache-Control"]) {
        for (const value of [res.getHeader(name) ?? []].flat()) {
          headers.append(name, String(value));
        }
      }
      const { setCookies, cacheControl } = await closeSession(
        session,
        headers,
        options,
      );
      restore();
      if (setCookies !== undefined) res.setHeader("Set-Cookie", setCookies);
      if (cacheControl !== undefined) {
        res.setHeader("Cache-Control", cacheControl);
      }
    } catch (error) {
      console.error(error);
      restore();
      if (!res.headersSent) {
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        res.statusCode = 500;
        res.setHeader("Content-Length", 0);
      }
      (res.end as Method).call(res);
      return;
    }
    replay();
  };

  for (const name of names) {
    const original = target[name];
    if (typeof original !== "function") continue;
    originals.set(name, original);
    wrap(name, function (this: unknown, ...args: unknown[]) {
      if (!held) return original.apply(this, args);
      // What Node's _implicitHeader calls once a call is held, as compression
      // does before each write while it sees no head sent: nothing to add.
      if (
        name === "writeHead" && saving && args.length === 1 &&
        args[0] === status
      ) return res;
      if (name === "writeHead") applyHead(res, args);
      queue.push([
        original,
        name === "writeHead" ? [saving ? status : res.statusCode] : args,
      ]);
      if (!saving) {
        saving = true;
        const sentBefore = res.headersSent;
        thaw = freeze();
        // Nothing may reject unseen: Node ends the process on it.
        save(sentBefore).catch((error) => console.error(error));
      }
      return name === "write" ? true : res;
    });
  }

  function wrap(name: string, wrapper: Method): void {
    wrappers.set(name, wrapper);
    target[name] = wrapper;
  }
}

// Sets what writeHead(status, [message], [headers]) would, as Node does when
// headers were set before, so that the session cookie joins the headers and
// the status counts when deciding whether to save.
function applyHead(res: NodeResponse, args: unknown[]): void {
  const [status, second, third] = args;
  if (typeof status === "number") res.statusCode = status;
  if (typeof second === "string") {
    (res as { statusMessage?: string }).statusMessage = second;
  }
  const headers = typeof second === "string" ? third : second;
  if (typeof headers !== "object" || headers === null) return;
  if (!Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) res.setHeader(name, value as string);
    }
    return;
  }
  // [[name, value], ...] or [name, value, name, value, ...], where a name
  // may repeat.
  const flat = Array.isArray(headers[0]) ? headers.flat() : headers;
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = String(flat[i]).toLowerCase();
    values.set(name, [...(values.get(name) ?? []), String(flat[i + 1])]);
  }
  for (const [name, list] of values) res.setHeader(name, list);
}
