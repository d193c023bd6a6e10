/**
 * HTTP cookies that carry a session: signed with HMAC-SHA256 or encrypted
 * with AES-256-GCM, with secret rotation, safe attribute defaults and a
 * parser that never throws on what a client sends.
 *
 * @example Signing a session cookie
 * ```ts
 * import { createCookie } from "@x/session/cookie";
 * import assert from "node:assert/strict";
 *
 * const cookie = createCookie("sid", { secrets: ["s".repeat(32)] });
 * const setCookie = await cookie.serialize("abc123");
 * const header = setCookie.slice(0, setCookie.indexOf(";"));
 * assert.equal(await cookie.parse(header), "abc123");
 * ```
 *
 * @module
 */

import { createChunking, MAX_HEADER_BYTES } from "./_cookie_chunks.ts";
import { createCodec } from "./_cookie_codec.ts";
import { describeValue } from "./_describe.ts";
import {
  checkBoolean,
  COOKIE_OCTETS,
  cookieValueAt,
  decodeValue,
  encodeValue,
  findCookie,
  formatAttributes,
  TOKEN,
} from "./_cookie_header.ts";

/**
 * The `SameSite` attribute: whether browsers send the cookie on requests
 * that come from other sites.
 *
 * @example
 * ```ts
 * import type { SameSite } from "@x/session/cookie";
 *
 * const sameSite: SameSite = "Strict";
 * ```
 */
export type SameSite = "Strict" | "Lax" | "None";

/**
 * The attributes of a `Set-Cookie` header: the options of
 * {@linkcode createCookie}, and what {@linkcode Cookie.serialize} can
 * override for one header.
 *
 * @example Clearing a cookie
 * ```ts
 * import { type CookieAttributes, createCookie } from "@x/session/cookie";
 *
 * const clear: CookieAttributes = { maxAge: 0 };
 * const cookie = createCookie("theme");
 * const setCookie = await cookie.serialize("", clear);
 * ```
 */
export interface CookieAttributes {
  /**
   * The host the cookie is sent to, with its subdomains. Without it the
   * cookie goes to the exact host that set it, and no subdomain.
   *
   * @default {undefined}
   */
  domain?: string;
  /**
   * The path prefix of the URLs the cookie is sent to.
   *
   * @default {"/"}
   */
  path?: string;
  /**
   * Seconds until the cookie expires, a whole number; `0` or less deletes
   * it. Without `maxAge` and `expires` the cookie ends with the browser
   * session.
   *
   * @default {undefined}
   */
  maxAge?: number;
  /**
   * When the cookie expires, from year 1601 to 9999 (what the `Expires`
   * attribute can carry). `maxAge` takes precedence in browsers.
   *
   * @default {undefined}
   */
  expires?: Date;
  /**
   * Whether scripts in the page are kept from reading the cookie. Leave it
   * on for session cookies: a script injected into the page cannot then
   * steal the session.
   *
   * @default {true}
   */
  httpOnly?: boolean;
  /**
   * Whether the cookie is sent over HTTPS only. Set it in production;
   * browsers treat `http://localhost` as secure too.
   *
   * @default {false}, or `true` when `partitioned` is set
   */
  secure?: boolean;
  /**
   * Whether the cookie is sent on requests from other sites. `"Lax"` sends
   * it on top-level navigations only, `"Strict"` never, `"None"` always
   * (and needs `secure`).
   *
   * @default {"Lax"}
   */
  sameSite?: SameSite;
  /**
   * Whether the cookie is kept per top-level site (CHIPS), for cookies of
   * embedded third-party content. Implies `secure`.
   *
   * @default {false}
   */
  partitioned?: boolean;
}

/**
 * Options for {@linkcode createCookie}.
 *
 * @example A signed session cookie
 * ```ts
 * import { type CookieOptions, createCookie } from "@x/session/cookie";
 *
 * const options: CookieOptions = {
 *   secrets: ["a secret of 32 bytes or more, read from the environment"],
 *   secure: true,
 *   maxAge: 60 * 60 * 24,
 * };
 * const cookie = createCookie("__Host-session", options);
 * ```
 */
export interface CookieOptions extends CookieAttributes {
  /**
   * Secrets that sign the cookie, each at least 32 bytes long. The first
   * signs new cookies; every one verifies, so a new secret goes first and
   * an old one stays at the end until the cookies it signed have expired.
   * A cookie signed with a secret no longer in the list reads as `null`.
   *
   * Without secrets the cookie is neither signed nor encrypted, and a
   * client can set it to anything.
   *
   * @default {undefined}
   */
  secrets?: string[];
  /**
   * Whether the value is encrypted and authenticated with AES-256-GCM under
   * keys derived from `secrets`, so the client can neither read nor change
   * it. Needs `secrets`. Each cookie gets a random 96-bit nonce, which
   * stays safe for about 4 billion cookies per secret: rotate well before.
   * A base64url value (what the stores write) is sealed as the bytes it
   * decodes to, so its cookie is no longer than a signed one; any other
   * value makes a cookie a third longer than the value.
   *
   * @default {false}
   */
  encrypt?: boolean;
  /**
   * Whether a value too long for one cookie may spread over several:
   * `name`, `name.1`, `name.2`, ..., each within the 4096 bytes browsers
   * accept, and authenticated as one whole, so that a chunk changed,
   * dropped, reordered or taken from another value makes the set read as
   * `null`. Needs `secrets`. A value that fits one cookie is written as
   * without this option. `maxBytes` bounds what the set adds to a
   * request's `Cookie` header, which servers limit: Node and Bun to 16 KiB
   * for all request headers by default, nginx and Apache to 8 KiB per
   * header line (see the README).
   * {@linkcode Cookie.serializeAll} writes such a set; `withSession` and
   * `commitSession` use it.
   *
   * @default {false}; `true` is `{ maxBytes: 10240 }`
   */
  chunked?: boolean | { maxBytes?: number };
}

/**
 * A cookie with a fixed name and attributes, made by
 * {@linkcode createCookie}.
 *
 * @example Reading the cookie from a request
 * ```ts
 * import { type Cookie, createCookie } from "@x/session/cookie";
 *
 * const cookie: Cookie = createCookie("theme");
 * const request = new Request("http://localhost/", {
 *   headers: { cookie: "theme=dark" },
 * });
 * const theme = await cookie.parse(request.headers.get("cookie"));
 * ```
 */
export interface Cookie {
  /** The cookie's name. */
  readonly name: string;
  /**
   * Whether the value is authenticated (signed or encrypted), so that
   * {@linkcode Cookie.parse} only returns values this server wrote.
   */
  readonly signed: boolean;
  /** Whether the value is encrypted, so the client cannot read it. */
  readonly encrypted: boolean;
  /** Whether a value may spread over several cookies (option `chunked`). */
  readonly chunked: boolean;
  /**
   * Returns this cookie's value from a `Cookie` request header, or `null`
   * when the cookie is missing, its signature is wrong, it does not decrypt
   * or it is malformed. When the name occurs more than once, a signed or
   * encrypted cookie reads the first occurrence that verifies or decrypts,
   * so a cookie planted under the same name by a sibling subdomain
   * (`sid=planted; sid=<valid>`) cannot hide the one this server wrote; an
   * unsigned cookie reads the first occurrence, as RFC 6265 has browsers
   * send the most specific cookie first. A chunked cookie also reads a
   * value spread over several cookies; a set with a chunk missing, changed,
   * out of place or from another set reads as `null`. Never rejects.
   *
   * @param cookieHeader The `Cookie` header, or `null` when absent.
   * @returns The value {@linkcode Cookie.serialize} was given, or `null`.
   */
  parse(cookieHeader: string | null): Promise<string | null>;
  /**
   * Returns a `Set-Cookie` header value that sets this cookie to `value`.
   * Any string can be stored: characters a cookie cannot hold are
   * percent-encoded, and `parse` decodes them.
   *
   * Rejects with a `TypeError` or `RangeError` naming the attribute when
   * browsers would reject or misread the header, including when the header
   * is longer than the 4096 bytes browsers accept (a chunked cookie's
   * {@linkcode Cookie.serializeAll} spreads such a value instead).
   *
   * @param value The value to store.
   * @param overrides Attributes that replace the cookie's own for this
   *   header only, such as `{ maxAge: 0 }` to delete the cookie.
   * @returns The `Set-Cookie` header value.
   */
  serialize(value: string, overrides?: CookieAttributes): Promise<string>;
  /**
   * Returns the `Set-Cookie` header values that set this cookie to `value`
   * in the response to a request whose `Cookie` header is `cookieHeader`.
   * Without option `chunked`, the one header of
   * {@linkcode Cookie.serialize}. With it, a header per chunk the value
   * takes (one when it fits a cookie), then one that deletes each chunk
   * cookie the request carried that the value no longer needs; with
   * `{ maxAge: 0 }` among `overrides`, headers that delete the cookie and
   * every chunk the request carried.
   *
   * Rejects like {@linkcode Cookie.serialize}, and with a `RangeError`
   * naming `maxBytes` when the chunks would take more.
   *
   * @example Spreading a long value over several cookies
   * ```ts
   * import { createCookie } from "@x/session/cookie";
   * import assert from "node:assert/strict";
   *
   * const cookie = createCookie("sid", {
   *   secrets: ["a secret of 32 bytes or more, read from the environment"],
   *   chunked: true,
   * });
   * const value = "x".repeat(6000);
   * const setCookies = await cookie.serializeAll(value, null);
   * assert.equal(setCookies.length, 2);
   * const header = setCookies.map((h) => h.slice(0, h.indexOf(";"))).join("; ");
   * assert.equal(await cookie.parse(header), value);
   * ```
   *
   * @param value The value to store.
   * @param cookieHeader The `Cookie` header of the request being answered,
   *   or `null`.
   * @param overrides Attributes that replace the cookie's own for these
   *   headers only.
   * @returns The `Set-Cookie` header values, in order.
   */
  serializeAll(
    value: string,
    cookieHeader: string | null,
    overrides?: CookieAttributes,
  ): Promise<string[]>;
}

/**
 * Creates a cookie. With `secrets`, its value is signed (or encrypted with
 * `encrypt: true`) and `parse` returns only values this server wrote, under
 * this cookie's name. Keys are derived from each secret once, here.
 *
 * Throws a `TypeError` or `RangeError` naming the option for a name or
 * attributes browsers would reject, and for secrets that are not a list of
 * distinct strings of 32 bytes or more (a hole, an empty string or the same
 * secret twice is refused, naming its index, never the secret).
 *
 * @example An encrypted session cookie
 * ```ts
 * import { createCookie } from "@x/session/cookie";
 * import assert from "node:assert/strict";
 *
 * const cookie = createCookie("__Host-session", {
 *   // Newest first: generate one with `openssl rand -base64 32`.
 *   secrets: ["a-new-secret-of-at-least-32-bytes", "an-old-secret-still-accepted-32b"],
 *   encrypt: true,
 *   secure: true,
 *   maxAge: 60 * 60 * 24 * 7,
 * });
 * const setCookie = await cookie.serialize("user 42");
 * assert.match(setCookie, /; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
 * assert.ok(!setCookie.includes("user"));
 * const header = setCookie.slice(0, setCookie.indexOf(";"));
 * assert.equal(await cookie.parse(header), "user 42");
 * ```
 *
 * @param name The cookie's name: letters, digits and ``!#$%&'*+-.^_`|~``.
 * @param options How the value is protected, and the cookie's attributes.
 * @returns The cookie.
 */
export function createCookie(
  name: string,
  options: CookieOptions = {},
): Cookie {
  if (typeof name !== "string" || !TOKEN.test(name)) {
    throw new TypeError(
      `createCookie: the cookie name ${
        JSON.stringify(name)
      } is not an RFC 6265 token. Use letters, digits and !#$%&'*+-.^_\`|~ ` +
        'only, e.g. "sid".',
    );
  }
  const context = `createCookie(${JSON.stringify(name)})`;
  checkBoolean(context, "encrypt", options.encrypt);
  const codec = createCodec(
    context,
    name,
    options.secrets,
    options.encrypt === true,
  );
  const chunking = createChunking(
    context,
    name,
    options.chunked,
    options.secrets,
    options.encrypt === true,
  );
  const defaults: CookieAttributes = {
    domain: options.domain,
    path: options.path,
    maxAge: options.maxAge,
    expires: options.expires,
    httpOnly: options.httpOnly,
    secure: options.secure,
    sameSite: options.sameSite,
    partitioned: options.partitioned,
  };
  const defaultAttributes = formatAttributes(context, name, defaults);
  const prefix = name + "=";
  const where = `Cookie ${JSON.stringify(name)}: serialize`;

  function attributesFor(value: string, overrides?: CookieAttributes) {
    if (typeof value !== "string") {
      throw new TypeError(
        `${where} takes the value as a string, got ${describeValue(value)}. ` +
          "Convert it first, e.g. with JSON.stringify.",
      );
    }
    return overrides === undefined
      ? defaultAttributes
      : formatAttributes(where, name, { ...defaults, ...overrides });
  }

  return {
    name,
    signed: codec.signed,
    encrypted: codec.encrypted,
    chunked: chunking !== undefined,

    async parse(cookieHeader) {
      if (typeof cookieHeader !== "string") return null;
      const readChunks = chunking?.reader(cookieHeader);
      let start = findCookie(cookieHeader, name, 0);
      while (start !== -1) {
        const raw = cookieValueAt(cookieHeader, start);
        if (COOKIE_OCTETS.test(raw)) {
          let encoded = readChunks === undefined ? null : await readChunks(raw);
          if (encoded === null) {
            let unwrapped = codec.unwrap(raw);
            if (typeof unwrapped === "object" && unwrapped !== null) {
              unwrapped = await unwrapped;
            }
            encoded = unwrapped;
          }
          if (encoded !== null) return decodeValue(encoded);
        }
        // A cookie another site planted under this name (cookie tossing)
        // must not hide the one this server wrote.
        if (!codec.signed) return null;
        start = findCookie(cookieHeader, name, start);
      }
      return null;
    },

    serialize,

    async serializeAll(value, cookieHeader, overrides) {
      if (chunking === undefined) {
        return [await serialize(value, overrides)];
      }
      const attributes = attributesFor(value, overrides);
      const encoded = encodeValue(value);
      let headers: string[] | undefined;
      if (encoded.length < MAX_HEADER_BYTES) {
        const header = prefix + await codec.wrap(encoded) + attributes;
        if (header.length <= MAX_HEADER_BYTES) headers = [header];
      }
      headers ??= await chunking.write(encoded, attributes);
      const stale = chunking.carried(cookieHeader, headers.length);
      if (stale.length > 0) {
        const expired = "=" + formatAttributes(where, name, {
          ...defaults,
          ...overrides,
          maxAge: 0,
          expires: new Date(0),
        });
        for (const chunkName of stale) headers.push(chunkName + expired);
      }
      return headers;
    },
  };

  async function serialize(
    value: string,
    overrides?: CookieAttributes,
  ): Promise<string> {
    const attributes = attributesFor(value, overrides);
    // No await on the synchronous path: an async function that never
    // awaits costs less per call (7% of a signed serialize in Bun).
    const wrapped = codec.wrap(encodeValue(value));
    return typeof wrapped === "string"
      ? setCookieHeader(wrapped, attributes)
      : wrapped.then((sealed) => setCookieHeader(sealed, attributes));
  }

  function setCookieHeader(wrapped: string, attributes: string): string {
    const header = prefix + wrapped + attributes;
    if (header.length > MAX_HEADER_BYTES) {
      throw new RangeError(
        `Cookie ${JSON.stringify(name)}: the Set-Cookie header would be ` +
          `${header.length} bytes, over the ${MAX_HEADER_BYTES} bytes ` +
          "browsers accept (they drop larger cookies silently). " +
          (chunking === undefined
            ? "Store less in the cookie, keep the data in a server-side " +
              "store (Redis, SQLite, PostgreSQL, Deno KV, or one of your " +
              "own through createRecordSessionStorage) so the cookie holds " +
              'only an id, or create the cookie with option "chunked" to ' +
              "spread the value over several cookies."
            : "This cookie is chunked: write it with serializeAll, which " +
              "spreads the value over several cookies."),
      );
    }
    return header;
  }
}
