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

import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
} from "node:crypto";
import { createHmacSha256 } from "./_hmac_sha256.ts";

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
   * When the cookie expires. `maxAge` takes precedence in browsers.
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
   *
   * @default {false}
   */
  encrypt?: boolean;
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
  /**
   * Returns this cookie's value from a `Cookie` request header, or `null`
   * when the cookie is missing, its signature is wrong, it does not decrypt
   * or it is malformed. When the name occurs twice, the first occurrence
   * is read, as RFC 6265 has browsers send the most specific cookie first.
   * Never rejects.
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
   * is longer than the 4096 bytes browsers accept.
   *
   * @param value The value to store.
   * @param overrides Attributes that replace the cookie's own for this
   *   header only, such as `{ maxAge: 0 }` to delete the cookie.
   * @returns The `Set-Cookie` header value.
   */
  serialize(value: string, overrides?: CookieAttributes): Promise<string>;
}

/** Browsers drop a cookie whose `Set-Cookie` line is longer than this. */
const MAX_HEADER_BYTES = 4096;
const MIN_SECRET_BYTES = 32;
const SIGNATURE_CHARS = 43; // base64url of a 32-byte HMAC-SHA256, unpadded
const IV_BYTES = 12;
const TAG_BYTES = 16;

// RFC 6265 section 4.1.1: a token (the name) and cookie-octets (the value).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
// Cookie-octets but `%`, which starts an escape: values made of these are
// stored as they are, the fast path for the base64url values stores write.
const PLAIN_VALUE = /^[\x21\x23\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const LONE_SURROGATE =
  /([\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF])/;
const ESCAPE = /%u([0-9A-F]{4})|(?:%[0-9A-Fa-f]{2})+|%/g;
const DOMAIN = /^\.?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$/;
const PATH = /^\/[\x20-\x3A\x3C-\x7E]*$/;

/**
 * Creates a cookie. With `secrets`, its value is signed (or encrypted with
 * `encrypt: true`) and `parse` returns only values this server wrote, under
 * this cookie's name. Keys are derived from each secret once, here.
 *
 * Throws a `TypeError` or `RangeError` naming the option for a name or
 * attributes browsers would reject, and for a secret shorter than 32 bytes.
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
  const keys = deriveKeys(context, options.secrets);
  const encrypt = options.encrypt === true;
  if (encrypt && keys.length === 0) {
    throw new TypeError(
      `${context}: option "encrypt" needs option "secrets" to derive the ` +
        "encryption key from. Pass secrets: [a random string of 32 bytes " +
        "or more].",
    );
  }
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
  // The name is bound into every MAC and ciphertext, so a value cannot be
  // moved from one cookie to another.
  const macPrefix = name + "=";
  const aad = Buffer.from(name);

  function sign(encoded: string): string {
    return keys[0].sign(macPrefix + encoded);
  }

  function unsign(raw: string): string | null {
    const dot = raw.length - SIGNATURE_CHARS - 1;
    if (dot < 0 || raw.charCodeAt(dot) !== 0x2e) return null;
    const signature = raw.slice(dot + 1);
    if (!CANONICAL_SIGNATURE.test(signature)) return null;
    givenSignature.write(signature, "base64url");
    const encoded = raw.slice(0, dot);
    const message = macPrefix + encoded;
    for (const key of keys) {
      if (key.verify(message, givenSignature)) return encoded;
    }
    return null;
  }

  function seal(encoded: string): string {
    const plain = Buffer.from(encoded, "latin1");
    const out = Buffer.allocUnsafe(IV_BYTES + plain.length + TAG_BYTES);
    takeRandomBytes(out, IV_BYTES);
    const cipher = createCipheriv(
      "aes-256-gcm",
      keys[0].encryption,
      out.subarray(0, IV_BYTES),
      { authTagLength: TAG_BYTES },
    );
    cipher.setAAD(aad);
    const head = cipher.update(plain);
    const tail = cipher.final();
    head.copy(out, IV_BYTES);
    tail.copy(out, IV_BYTES + head.length);
    cipher.getAuthTag().copy(out, IV_BYTES + plain.length);
    return out.toString("base64url");
  }

  function open(raw: string): string | null {
    const sealed = Buffer.from(raw, "base64url");
    // base64url decoding ignores stray bits and characters; refuse any
    // string that is not the one encoding of its bytes.
    if (
      sealed.length < IV_BYTES + TAG_BYTES ||
      sealed.toString("base64url") !== raw
    ) {
      return null;
    }
    const iv = sealed.subarray(0, IV_BYTES);
    const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    for (const key of keys) {
      try {
        const decipher = createDecipheriv("aes-256-gcm", key.encryption, iv, {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aad);
        decipher.setAuthTag(tag);
        const head = decipher.update(body);
        const tail = decipher.final();
        return head.toString("latin1") + tail.toString("latin1");
      } catch {
        // Wrong key or tampered value: try the next secret.
      }
    }
    return null;
  }

  return {
    name,
    signed: keys.length > 0,
    encrypted: encrypt,

    async parse(cookieHeader) {
      if (typeof cookieHeader !== "string") return null;
      let raw = findCookieValue(cookieHeader, name);
      if (raw === null || !COOKIE_OCTETS.test(raw)) return null;
      if (encrypt) {
        raw = open(raw);
        if (raw === null) return null;
      } else if (keys.length > 0) {
        raw = unsign(raw);
        if (raw === null) return null;
      }
      return decodeValue(raw);
    },

    async serialize(value, overrides) {
      if (typeof value !== "string") {
        throw new TypeError(
          `Cookie ${JSON.stringify(name)}: serialize takes the value as a ` +
            `string, got ${describeType(value)}. Convert it first, e.g. ` +
            "with JSON.stringify.",
        );
      }
      const attributes = overrides === undefined ? defaultAttributes : (
        formatAttributes(
          `Cookie ${JSON.stringify(name)}: serialize`,
          name,
          { ...defaults, ...overrides },
        )
      );
      let encoded = encodeValue(value);
      if (encrypt) {
        encoded = seal(encoded);
      } else if (keys.length > 0) {
        encoded += "." + sign(encoded);
      }
      const header = macPrefix + encoded + attributes;
      if (header.length > MAX_HEADER_BYTES) {
        throw new RangeError(
          `Cookie ${JSON.stringify(name)}: the Set-Cookie header would be ` +
            `${header.length} bytes, over the ${MAX_HEADER_BYTES} bytes ` +
            "browsers accept (they drop larger cookies silently). Store " +
            "less in the cookie, or keep the data in a server-side store " +
            "such as createFsSessionStorage so the cookie holds only an id.",
        );
      }
      return header;
    },
  };
}

/** HMAC-SHA256 under one secret's signing key, of ASCII messages. */
interface Signer {
  /** The signature of `message`, in base64url. */
  sign(message: string): string;
  /** Whether `signature` is that of `message`, compared in constant time. */
  verify(message: string, signature: Buffer): boolean;
}

interface CookieKeys extends Signer {
  encryption: Buffer;
}

// Messages up to this many bytes are signed by the HMAC in JavaScript, keyed
// once, which saves the key setup createHmac repeats on every call; longer
// ones by createHmac, whose native SHA-256 costs less per 64-byte block. On
// the machine of BENCHMARKS.md the two cost the same at about 1,000 to 1,500
// bytes in Deno, 300 to 500 in Node 20 and 26, and 60 to 100 in Bun, whose
// createHmac costs least per call. A cookie that carries a session id (a
// name of up to 22 characters, "=" and 32 characters: one block) takes the
// JavaScript path everywhere.
const JS_HMAC_MAX_BYTES = "Deno" in globalThis
  ? 1000
  : "Bun" in globalThis
  ? 55
  : 400;

function createSigner(key: Buffer): Signer {
  const inJavaScript = createHmacSha256(key);
  const keyObject = createSecretKey(key);
  return {
    sign(message) {
      if (message.length > JS_HMAC_MAX_BYTES) {
        return createHmac("sha256", keyObject).update(message).digest(
          "base64url",
        );
      }
      inJavaScript(message, expectedSignature);
      return expectedSignature.toString("base64url");
    },
    verify(message, signature) {
      let expected = expectedSignature;
      if (message.length > JS_HMAC_MAX_BYTES) {
        expected = createHmac("sha256", keyObject).update(message).digest();
      } else {
        inJavaScript(message, expected);
      }
      return signaturesMatch(expected, signature);
    },
  };
}

function deriveKeys(
  context: string,
  secrets: string[] | undefined,
): CookieKeys[] {
  if (secrets === undefined) return [];
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new TypeError(
      `${context}: option "secrets" must be a non-empty array of strings, ` +
        `got ${
          Array.isArray(secrets) ? "an empty array" : describeType(secrets)
        }. Omit it for an unsigned cookie.`,
    );
  }
  return secrets.map((secret, index) => {
    if (typeof secret !== "string") {
      throw new TypeError(
        `${context}: option "secrets" must hold strings, but secrets[${index}] ` +
          `is ${describeType(secret)}.`,
      );
    }
    const bytes = Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RangeError(
        `${context}: secrets[${index}] is ${bytes.length} bytes long; each ` +
          `secret must be at least ${MIN_SECRET_BYTES} bytes. Generate one ` +
          "with `openssl rand -base64 32`.",
      );
    }
    return {
      ...createSigner(hkdf(bytes, "signing")),
      encryption: hkdf(bytes, "encryption"),
    };
  });
}

// One call to the random generator per 341 nonces instead of one per
// cookie: each call costs about a quarter of an HMAC in Node, more in Bun.
const randomPool = Buffer.alloc(IV_BYTES * 341);
let randomPoolOffset = randomPool.length;

/** Copies fresh random bytes, never handed out before, into `target`. */
function takeRandomBytes(target: Buffer, count: number): void {
  if (randomPoolOffset + count > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  randomPool.copy(target, 0, randomPoolOffset, randomPoolOffset + count);
  randomPoolOffset += count;
}

// Where signatures are computed and decoded; signing and verifying run
// synchronously, one at a time.
const signatureScratch = Buffer.alloc(2 * 32);
const givenSignature = signatureScratch.subarray(0, 32);
const expectedSignature = signatureScratch.subarray(32);

/**
 * Whether two 32-byte signatures are equal, in time that depends neither on
 * where they differ nor on how many bytes do.
 * Written out because `node:crypto`'s `timingSafeEqual` costs about 1 µs
 * a call in Deno, a sixth of a whole signed cookie's parse.
 */
function signaturesMatch(expected: Buffer, given: Buffer): boolean {
  let difference = 0;
  for (let i = 0; i < 32; i++) {
    difference |= expected[i] ^ given[i];
  }
  return difference === 0;
}

// The last of 43 base64url characters carries 4 bits of the 32 bytes; the
// other 2 must be zero, or two spellings would decode to one signature.
const CANONICAL_SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

function hkdf(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", secret, "", `@x/session cookie ${purpose} v1`, 32),
  );
}

function formatAttributes(
  context: string,
  name: string,
  attributes: CookieAttributes,
): string {
  const {
    domain,
    path = "/",
    maxAge,
    expires,
    httpOnly = true,
    partitioned = false,
    sameSite = "Lax",
  } = attributes;
  const secure = attributes.secure === true || partitioned === true;
  let out = "";
  if (maxAge !== undefined) {
    if (typeof maxAge !== "number" || !Number.isSafeInteger(maxAge)) {
      throw new RangeError(
        `${context}: option "maxAge" must be a whole number of seconds, got ` +
          `${describeValue(maxAge)}. Round it, e.g. Math.floor(ms / 1000).`,
      );
    }
    out += "; Max-Age=" + maxAge;
  }
  if (domain !== undefined) {
    if (typeof domain !== "string" || !DOMAIN.test(domain)) {
      throw new TypeError(
        `${context}: option "domain" must be a host name such as ` +
          `"example.com", got ${describeValue(domain)}. Leave out the ` +
          "scheme, port and path, and write non-ASCII names in punycode.",
      );
    }
    out += "; Domain=" + domain;
  }
  if (typeof path !== "string" || !PATH.test(path)) {
    throw new TypeError(
      `${context}: option "path" must start with "/" and hold no ";" or ` +
        `control characters, got ${describeValue(path)}. Percent-encode ` +
        "other characters.",
    );
  }
  out += "; Path=" + path;
  if (expires !== undefined) {
    if (!(expires instanceof Date) || Number.isNaN(expires.getTime())) {
      throw new TypeError(
        `${context}: option "expires" must be a valid Date, got ` +
          `${describeValue(expires)}. Or use "maxAge" in seconds.`,
      );
    }
    out += "; Expires=" + expires.toUTCString();
  }
  if (httpOnly) out += "; HttpOnly";
  if (secure) out += "; Secure";
  if (sameSite !== "Lax" && sameSite !== "Strict" && sameSite !== "None") {
    throw new TypeError(
      `${context}: option "sameSite" must be "Lax", "Strict" or "None", ` +
        `got ${describeValue(sameSite)}.`,
    );
  }
  if (sameSite === "None" && !secure) {
    throw new TypeError(
      `${context}: option "sameSite" is "None" but "secure" is not set, ` +
        "and browsers reject SameSite=None cookies that are not Secure. " +
        'Set secure: true (and serve over HTTPS), or use sameSite: "Lax".',
    );
  }
  out += "; SameSite=" + sameSite;
  if (partitioned) out += "; Partitioned";

  const prefix = name.slice(0, 9).toLowerCase();
  if (prefix.startsWith("__host-")) {
    if (!secure || domain !== undefined || path !== "/") {
      throw new TypeError(
        `${context}: a cookie named "__Host-..." must have "secure": true, ` +
          `"path": "/" and no "domain", got secure ${secure}, path ` +
          `${describeValue(path)}, domain ${describeValue(domain)}. ` +
          "Browsers reject it otherwise; fix the options or drop the prefix.",
      );
    }
  } else if (prefix === "__secure-" && !secure) {
    throw new TypeError(
      `${context}: a cookie named "__Secure-..." must have "secure": true; ` +
        "browsers reject it otherwise. Set secure: true or drop the prefix.",
    );
  }
  return out;
}

/**
 * Finds the value of the first cookie named `name` in a `Cookie` header, as
 * RFC 6265 section 5.4 and its successor read it: pairs separated by `;`,
 * spaces and tabs around names and values ignored, one pair of surrounding
 * double quotes removed. Scans the header once, without splitting it.
 */
function findCookieValue(header: string, name: string): string | null {
  const length = header.length;
  let from = 0;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at === -1) return null;
    from = at + 1;
    let before = at - 1;
    while (before >= 0 && isSpace(header.charCodeAt(before))) before--;
    if (before >= 0 && header.charCodeAt(before) !== 0x3b) continue;
    let equals = at + name.length;
    while (equals < length && isSpace(header.charCodeAt(equals))) equals++;
    if (header.charCodeAt(equals) !== 0x3d) continue;

    let start = equals + 1;
    let end = header.indexOf(";", start);
    if (end === -1) end = length;
    while (start < end && isSpace(header.charCodeAt(start))) start++;
    while (end > start && isSpace(header.charCodeAt(end - 1))) end--;
    if (
      end - start >= 2 && header.charCodeAt(start) === 0x22 &&
      header.charCodeAt(end - 1) === 0x22
    ) {
      start++;
      end--;
    }
    return header.slice(start, end);
  }
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Makes any string cookie-safe. UTF-8 percent-encoding as
 * `encodeURIComponent` writes it, and `%uXXXX` for a lone surrogate, which
 * UTF-8 cannot hold.
 */
function encodeValue(value: string): string {
  if (PLAIN_VALUE.test(value)) return value;
  try {
    return encodeURIComponent(value);
  } catch {
    return value.split(LONE_SURROGATE).map((part, index) =>
      index % 2 === 0
        ? encodeURIComponent(part)
        : "%u" + part.charCodeAt(0).toString(16).toUpperCase()
    ).join("");
  }
}

/** Reverses {@linkcode encodeValue}; `null` for a malformed escape. */
function decodeValue(encoded: string): string | null {
  if (!encoded.includes("%")) return encoded;
  try {
    // `%` itself is always escaped, so `%u` only starts a lone surrogate.
    if (!encoded.includes("%u")) return decodeURIComponent(encoded);
    return encoded.replace(ESCAPE, (escape: string, unit?: string) => {
      if (unit !== undefined) return String.fromCharCode(parseInt(unit, 16));
      if (escape === "%") throw new URIError("stray %");
      return decodeURIComponent(escape);
    });
  } catch {
    return null;
  }
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  }
  return value === undefined ? "none" : describeType(value);
}
