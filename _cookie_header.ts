// The text of cookies: `Set-Cookie` attributes, finding a cookie in a
// `Cookie` header, and the percent-coding that lets a cookie hold any
// string. Not part of the public API.

import { describeValue } from "./_describe.ts";
import type { CookieAttributes } from "./cookie.ts";

// RFC 6265 section 4.1.1: a token (the name) and cookie-octets (the value).
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
// Cookie-octets but `%`, which starts an escape: values made of these are
// stored as they are, the fast path for the base64url values stores write.
const PLAIN_VALUE = /^[\x21\x23\x24\x26-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;
const LONE_SURROGATE =
  /([\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF])/;
const ESCAPE = /%u([0-9A-F]{4})|(?:%[0-9A-Fa-f]{2})+|%/g;
const DOMAIN = /^\.?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$/;
const PATH = /^\/[\x20-\x3A\x3C-\x7E]*$/;

/**
 * The `; Name=value` attributes of a `Set-Cookie` header for a cookie named
 * `name`, checked as browsers check them. Throws a `TypeError` or
 * `RangeError` that starts with `context` and names the option.
 */
export function formatAttributes(
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
  checkBoolean(context, "httpOnly", httpOnly);
  checkBoolean(context, "secure", attributes.secure);
  checkBoolean(context, "partitioned", partitioned);
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
    // RFC 6265 date parsing takes a year of at most four digits, from 1601:
    // browsers ignore any other Expires, and the cookie ends with the
    // browser session.
    const year = expires.getUTCFullYear();
    if (year < 1601 || year > 9999) {
      throw new RangeError(
        `${context}: option "expires" must be a date from year 1601 to ` +
          `9999, got a Date in year ${year}, which browsers ignore. For a ` +
          "cookie that lasts as long as browsers allow (400 days), use " +
          "maxAge: 400 * 24 * 60 * 60.",
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
 * Throws a `TypeError` that starts with `context` unless the boolean option
 * `option` is a boolean or left out: a string such as `"true"`, read from
 * the environment, must not quietly count as false.
 */
export function checkBoolean(
  context: string,
  option: string,
  value: unknown,
): void {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(
      `${context}: option "${option}" must be true or false, got ` +
        `${describeValue(value)}.`,
    );
  }
}

/**
 * Finds the next cookie named `name` in a `Cookie` header, as RFC 6265
 * section 5.4 and its successor read it: pairs separated by `;`, spaces and
 * tabs around names and values ignored. Returns the index just past the
 * pair's `=`, for {@linkcode cookieValueAt}, or -1 when there is none at or
 * after `from`. To find the one after, pass the index returned: each call
 * scans on from where the last one stopped, without splitting the header.
 */
export function findCookie(header: string, name: string, from: number): number {
  const length = header.length;
  for (;;) {
    const at = header.indexOf(name, from);
    if (at === -1) return -1;
    from = at + 1;
    let before = at - 1;
    while (before >= 0 && isSpace(header.charCodeAt(before))) before--;
    if (before >= 0 && header.charCodeAt(before) !== 0x3b) continue;
    let equals = at + name.length;
    while (equals < length && isSpace(header.charCodeAt(equals))) equals++;
    if (header.charCodeAt(equals) === 0x3d) return equals + 1;
  }
}

/**
 * The value of the pair whose `=` ends just before `start`: up to the next
 * `;`, without surrounding spaces and tabs or one pair of double quotes.
 */
export function cookieValueAt(header: string, start: number): string {
  let end = header.indexOf(";", start);
  if (end === -1) end = header.length;
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

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Makes any string cookie-safe. UTF-8 percent-encoding as
 * `encodeURIComponent` writes it, and `%uXXXX` for a lone surrogate, which
 * UTF-8 cannot hold.
 */
export function encodeValue(value: string): string {
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
export function decodeValue(encoded: string): string | null {
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
