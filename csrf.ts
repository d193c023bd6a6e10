/**
 * Protection against cross-site request forgery (CSRF), tied to the session:
 * for every request with an unsafe method (anything but GET, HEAD, OPTIONS
 * and TRACE), an `Origin`/`Sec-Fetch-Site` check and a synchronizer token
 * that the page sends back in a form field or a header.
 *
 * The token is an HMAC of the session id under a random key kept in the
 * session, so it changes whenever the id does: a token an attacker learned
 * from a session they planted in the victim's browser is worthless once the
 * victim logs in with `regenerateId()`.
 *
 * @example Guarding a form with withSession
 * ```ts
 * import { createCsrfProtection } from "@x/session/csrf";
 * import { withSession } from "@x/session/middleware";
 * import { createCookie } from "@x/session/cookie";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const csrf = createCsrfProtection();
 * const app = withSession({
 *   cookie: createCookie("sid", {
 *     secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   }),
 *   storage: createMemorySessionStorage(),
 * }, csrf.protect((request, session) => {
 *   if (request.method === "POST") return new Response("Saved");
 *   return new Response(
 *     `<form method="post"><input type="hidden" name="${csrf.field}" ` +
 *       `value="${csrf.token(session)}"><button>Save</button></form>`,
 *     { headers: { "Content-Type": "text/html" } },
 *   );
 * }));
 *
 * const forged = await app(new Request("http://localhost/", {
 *   method: "POST",
 *   headers: { Origin: "https://evil.example" },
 * }));
 * assert.equal(forged.status, 403);
 * ```
 *
 * @module
 */

import { encodeBase64url } from "./_base64url.ts";
import { byteString, createHmacSha256 } from "./_hmac_sha256.ts";
import type { Session } from "./session.ts";
import type { SessionHandler } from "./middleware.ts";
import { describeValue } from "./_describe.ts";

/**
 * Options for {@linkcode createCsrfProtection}.
 *
 * @example An admin site on another origin that posts to this one
 * ```ts
 * import type { CsrfOptions } from "@x/session/csrf";
 *
 * const options: CsrfOptions = {
 *   trustedOrigins: ["https://admin.example.com"],
 *   development: true,
 * };
 * ```
 */
export interface CsrfOptions {
  /**
   * Origins, besides the request's own, whose unsafe requests pass the
   * origin check, each written as a browser sends it in `Origin`: scheme,
   * host and port only, such as `"https://admin.example.com"`. They still
   * need the token. Add your public origin here when a proxy in front of
   * the server changes the scheme or host the server sees and some browsers
   * you serve send no `Sec-Fetch-Site`.
   *
   * @default {[]}
   */
  trustedOrigins?: readonly string[];
  /**
   * The form field that carries the token, in `application/x-www-form-urlencoded`
   * and `multipart/form-data` bodies.
   *
   * @default {"_csrf"}
   */
  field?: string;
  /**
   * The request header that carries the token, for `fetch` calls.
   *
   * @default {"X-CSRF-Token"}
   */
  header?: string;
  /**
   * The largest form body, in bytes, read to find the token. A longer form
   * is read no further than that, by its `Content-Length` not at all, and
   * refused.
   *
   * @default {65536}
   */
  maxFormBytes?: number;
  /**
   * Whether a refusal says why in its body (`403 Forbidden: the request
   * carries no CSRF token ...`). Turn it on in development only: in
   * production the body is just `Forbidden`, which tells an attacker
   * nothing.
   *
   * @default {false}
   */
  development?: boolean;
}

/**
 * What {@linkcode createCsrfProtection} returns.
 *
 * @example Checking a fetch-style handler by hand
 * ```ts
 * import { createCsrfProtection, type CsrfProtection } from "@x/session/csrf";
 * import { createSession } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const csrf: CsrfProtection = createCsrfProtection();
 * const session = createSession();
 * const request = new Request("http://localhost/api", {
 *   method: "POST",
 *   headers: { Origin: "http://localhost", [csrf.header]: csrf.token(session) },
 * });
 * assert.equal(await csrf.check(request, session), undefined);
 * ```
 */
export interface CsrfProtection {
  /** The form field that carries the token. */
  readonly field: string;
  /** The request header that carries the token. */
  readonly header: string;
  /**
   * The token of `session`, to put in a hidden form field or a header.
   * The first call stores a random key in the session, under the key
   * `"@x/session/csrf"` (so save the session); the token is derived from
   * that key and the session id, so it changes when the id is regenerated.
   * Render it after `regenerateId()`, not before.
   */
  token(session: Session): string;
  /**
   * Why `request` must be refused, or `undefined` when it may go on.
   * Requests with a safe method always go on. Reads the body of a clone of
   * `request` only for a form without the token header, so call it before
   * the body is read: for such a form it rejects with a `TypeError` once
   * the body was read.
   */
  check(request: Request, session: Session): Promise<string | undefined>;
  /**
   * Wraps a `withSession` handler: a request that {@linkcode check} refuses
   * gets a `403 Forbidden` response and the handler does not run.
   */
  protect<Info, Context = unknown>(
    handler: SessionHandler<Info, Context>,
  ): SessionHandler<Info, Context>;
}

// The session key of the per-session HMAC key. Namespaced, so that it does
// not meet an application's own keys.
const KEY = "@x/session/csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const TOKEN_LENGTH = 43; // base64url of 32 bytes

/**
 * Creates a CSRF guard.
 *
 * An unsafe request passes only when both hold:
 *
 * 1. Its origin is this site's or a trusted one: `Sec-Fetch-Site` is
 *    `same-origin` or `none`, or the header is absent; and `Origin`, when
 *    sent and not vouched for by `Sec-Fetch-Site: same-origin`, is the
 *    request URL's origin or one of `trustedOrigins`. `Origin: null`, a
 *    malformed origin, another scheme, port or subdomain are refused.
 * 2. It carries the session's token, in the header or the form field,
 *    compared in constant time.
 *
 * @example A fetch call sends the token in a header
 * ```ts
 * import { createCsrfProtection } from "@x/session/csrf";
 * import { createSession } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const csrf = createCsrfProtection({ development: true });
 * const session = createSession();
 * const token = csrf.token(session);
 * const post = (headers: Record<string, string>) =>
 *   new Request("https://app.example/api", { method: "POST", headers });
 *
 * assert.equal(
 *   await csrf.check(post({ "Sec-Fetch-Site": "same-origin", "X-CSRF-Token": token }), session),
 *   undefined,
 * );
 * assert.match(
 *   (await csrf.check(post({ "Sec-Fetch-Site": "cross-site", "X-CSRF-Token": token }), session))!,
 *   /cross-site/,
 * );
 * session.regenerateId(true);
 * assert.match(
 *   (await csrf.check(post({ "X-CSRF-Token": token }), session))!,
 *   /does not match/,
 * );
 * ```
 *
 * @param options Trusted origins, where the token travels, and how much a
 * refusal tells.
 * @returns The guard.
 * @throws {TypeError} When an option has the wrong type or a trusted
 * origin is not written as a bare origin.
 */
export function createCsrfProtection(
  options: CsrfOptions = {},
): CsrfProtection {
  const field = nonEmptyString("field", options.field ?? "_csrf");
  const header = nonEmptyString("header", options.header ?? "X-CSRF-Token");
  const maxFormBytes = options.maxFormBytes ?? 65_536;
  if (!Number.isSafeInteger(maxFormBytes) || maxFormBytes < 0) {
    throw new TypeError(
      `createCsrfProtection: option "maxFormBytes" must be a whole number ` +
        `of bytes, got ${describeValue(options.maxFormBytes)}.`,
    );
  }
  const trusted = trustedOriginSet(options.trustedOrigins ?? []);
  const development = options.development === true;

  function token(session: Session): string {
    let key = session.get(KEY);
    if (typeof key !== "string") {
      key = encodeBase64url(crypto.getRandomValues(new Uint8Array(32)));
      session.set(KEY, key);
    }
    // HMAC-SHA256 of the id's UTF-8 bytes under the key's, in JavaScript;
    // printable ASCII is its own UTF-8.
    const id = session.id;
    const mac = new Uint8Array(32);
    createHmacSha256(new TextEncoder().encode(key as string))(
      /^[ -~]*$/.test(id) ? id : byteString(new TextEncoder().encode(id)),
      mac,
    );
    return encodeBase64url(mac);
  }

  async function check(
    request: Request,
    session: Session,
  ): Promise<string | undefined> {
    if (SAFE_METHODS.has(request.method)) return undefined;
    const originProblem = checkOrigin(request, trusted);
    if (originProblem !== undefined) return originProblem;
    const sent = request.headers.get(header) ??
      await formField(request, field, header, maxFormBytes);
    if (typeof sent !== "string" || sent === "") {
      return `the request carries no CSRF token: send it in the ` +
        `"${header}" header, or the "${field}" field of a form of at most ` +
        `${maxFormBytes} bytes`;
    }
    if (typeof session.get(KEY) !== "string") {
      return "the session has no CSRF token yet: render the page that " +
        "sends this request with the token of its session first";
    }
    if (!sameToken(sent, token(session))) {
      return "the CSRF token does not match this session's: it is missing " +
        "a character, from another session, or from before the session id " +
        "was regenerated (reload the page)";
    }
    return undefined;
  }

  function protect<Info, Context = unknown>(
    handler: SessionHandler<Info, Context>,
  ): SessionHandler<Info, Context> {
    if (typeof handler !== "function") {
      throw new TypeError(
        `createCsrfProtection: protect(handler) needs a function, got ` +
          `${describeValue(handler)}.`,
      );
    }
    return async (request, session, info, context) => {
      const problem = await check(request, session);
      if (problem === undefined) {
        return await handler(request, session, info, context);
      }
      return new Response(
        development ? `Forbidden: ${problem}.\n` : "Forbidden\n",
        {
          status: 403,
          headers: {
            "Content-Type": "text/plain; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
          },
        },
      );
    };
  }

  return { field, header, token, check, protect };
}

function checkOrigin(
  request: Request,
  trusted: ReadonlySet<string>,
): string | undefined {
  const origin = request.headers.get("Origin");
  if (origin !== null && trusted.has(origin)) return undefined;
  const site = request.headers.get("Sec-Fetch-Site");
  if (site === "same-origin") return undefined;
  if (site !== null && site !== "none") {
    const known = site === "same-site" || site === "cross-site";
    return `the browser says this is a ${
      known ? site : "not same-origin"
    } request (Sec-Fetch-Site), and its Origin is not trusted: add it to ` +
      `"trustedOrigins" if it should be`;
  }
  // No Origin: not a browser, or an old one. The token decides.
  if (origin === null) return undefined;
  if (origin === "null") {
    return "the request's Origin is null (a sandboxed frame, a file, or a " +
      "redirect across sites)";
  }
  if (origin !== new URL(request.url).origin) {
    return "the request's Origin is neither this site's origin nor one of " +
      '"trustedOrigins"';
  }
  return undefined;
}

async function formField(
  request: Request,
  field: string,
  header: string,
  maxFormBytes: number,
): Promise<string | undefined> {
  const type = request.headers.get("Content-Type") ?? "";
  const urlencoded = /^application\/x-www-form-urlencoded\b/i.test(type);
  if (!urlencoded && !/^multipart\/form-data\b/i.test(type)) return undefined;
  const length = request.headers.get("Content-Length");
  if (length !== null && !(Number(length) <= maxFormBytes)) return undefined;
  if (request.bodyUsed) {
    throw new TypeError(
      "csrf.check: the request's body was already read, so its form field " +
        `"${field}" cannot be. Call check before reading the body ` +
        `(csrf.protect does), or send the token in the "${header}" header.`,
    );
  }
  const bytes = await readAtMost(request.clone().body, maxFormBytes);
  if (bytes === undefined) return undefined;
  try {
    const value = urlencoded
      ? new URLSearchParams(new TextDecoder().decode(bytes)).get(field)
      : (await new Response(bytes, { headers: { "Content-Type": type } })
        .formData()).get(field);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

// The body's bytes, or `undefined` once it proves longer than `limit`
// (the rest is never read) or fails.
async function readAtMost(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        // Not awaited: cancelling one branch of a cloned body settles only
        // once the other branch is cancelled too.
        reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function sameToken(sent: string, expected: string): boolean {
  if (sent.length !== TOKEN_LENGTH) return false;
  // In time that does not depend on where they differ; a character outside
  // ASCII differs from every character of a token.
  let difference = 0;
  for (let i = 0; i < TOKEN_LENGTH; i++) {
    difference |= sent.charCodeAt(i) ^ expected.charCodeAt(i);
  }
  return difference === 0;
}

function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `createCsrfProtection: option "${option}" must be a non-empty string, ` +
        `got ${describeValue(value)}.`,
    );
  }
  return value;
}

function trustedOriginSet(origins: readonly string[]): Set<string> {
  if (!Array.isArray(origins)) {
    throw new TypeError(
      'createCsrfProtection: option "trustedOrigins" must be an array of ' +
        `origins such as "https://admin.example.com", got ` +
        `${describeValue(origins)}.`,
    );
  }
  for (const [index, origin] of origins.entries()) {
    let parsed: string | undefined;
    try {
      parsed = new URL(origin).origin;
    } catch {
      parsed = undefined;
    }
    if (typeof origin !== "string" || parsed !== origin || parsed === "null") {
      throw new TypeError(
        `createCsrfProtection: option "trustedOrigins" item ${index} must ` +
          "be a bare origin, scheme, host and port only, as a browser " +
          `sends it in Origin (such as "https://admin.example.com", no ` +
          `path and no trailing slash), got ${describeValue(origin)}.`,
      );
    }
  }
  return new Set(origins);
}
