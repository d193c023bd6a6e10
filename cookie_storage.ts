/**
 * A session store that keeps all session data in the cookie itself: no
 * server-side storage at all, at the price of a cookie of at most about
 * 4 kB, or of several with a cookie created with option `chunked`. The
 * cookie must be signed or encrypted, or clients can write their own
 * sessions.
 *
 * @example
 * ```ts
 * import { createCookieSessionStorage } from "@x/session/cookie-storage";
 *
 * const storage = createCookieSessionStorage({ ttl: 3600 });
 * ```
 *
 * @module
 */

import { decodeBase64url, encodeUtf8Base64url } from "./_base64url.ts";
import { createSession, type SessionStorage } from "./session.ts";
import { adoptSession } from "./_session_internals.ts";
import {
  decodeRecord,
  encodeRecord,
  Expiry,
  secondsOption,
} from "./_record.ts";

/**
 * Options for {@linkcode createCookieSessionStorage}.
 *
 * @example
 * ```ts
 * import type { CookieSessionStorageOptions } from "@x/session/cookie-storage";
 *
 * const options: CookieSessionStorageOptions = { ttl: 60 * 60 };
 * ```
 */
export interface CookieSessionStorageOptions {
  /**
   * Seconds of inactivity after which a session is gone. The expiry travels
   * inside the cookie value and `read` enforces it, which bounds how long a
   * copied old cookie can be replayed. Every save renews it, and an unchanged
   * session is saved again once less than half of its ttl is left.
   *
   * @default {undefined} (sessions never expire)
   */
  ttl?: number;
  /**
   * Seconds after its creation at which a session ends, however active it
   * is. The creation time travels inside the cookie value; `regenerateId`
   * keeps it. The idle `ttl` still applies.
   *
   * Once `ttl` or `maxLifetime` is set, a cookie that carries no expiry
   * (issued while neither was) reads as a new session; under `maxLifetime`,
   * so does one that carries no creation time (issued by a release that
   * wrote none). The store keeps nothing server-side, so it cannot remember
   * when it first saw such a cookie: accepting it would accept a copy of it
   * forever.
   *
   * @default {undefined} (no absolute limit)
   */
  maxLifetime?: number;
}

/**
 * Creates a session storage that keeps the whole session in the cookie
 * value, written as base64url JSON. A value that does not decode reads as a
 * new session.
 *
 * This storage does not sign anything: sign or encrypt the cookie that
 * carries the value. A cookie store cannot delete an old session, so
 * `regenerateId(true)` only changes the id, and the first save that uses
 * it warns once per storage with `console.warn`; use `ttl` to bound how
 * long a copied cookie stays usable.
 *
 * @example Counting visits
 * ```ts
 * import { createCookieSessionStorage } from "@x/session/cookie-storage";
 * import assert from "node:assert/strict";
 *
 * const storage = createCookieSessionStorage();
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("count"), 1);
 * ```
 *
 * @param options How sessions expire: idle `ttl` and absolute
 * `maxLifetime`.
 * @returns The session storage.
 */
export function createCookieSessionStorage(
  options: CookieSessionStorageOptions = {},
): SessionStorage {
  const factory = "createCookieSessionStorage";
  const expiry = new Expiry(
    secondsOption(factory, "ttl", options.ttl),
    secondsOption(factory, "maxLifetime", options.maxLifetime),
  );

  let warned = false;

  return {
    async read(cookie) {
      const decoded = typeof cookie === "string" && cookie !== ""
        ? decode(cookie)
        : undefined;
      if (decoded?.id && expiry.isLive(decoded)) {
        const session = adoptSession(decoded.id, decoded.data);
        expiry.remember(session, decoded);
        return session;
      }
      return createSession();
    },

    async save(session) {
      if (session.destroyed) return "";
      if (!expiry.mustWrite(session)) return null;
      if (session.deleteId !== undefined && !warned) {
        warned = true;
        console.warn(
          "createCookieSessionStorage: regenerateId(true) cannot delete the " +
            "old session here: the cookie store keeps each session in its " +
            "cookie, so a copy of the old cookie stays valid until its ttl " +
            "runs out (forever without a ttl). Where old sessions must be " +
            "revoked, at login or logout, use a server-side store (memory, " +
            "fs, Redis or Deno KV). (This warning is shown once per storage.)",
        );
      }
      const times = expiry.timesFor(session);
      const text = encodeRecord(session.data, times, session.id);
      expiry.written(session, times);
      return encodeUtf8Base64url(text);
    },
  };
}

// One per module: constructing it took a twentieth of a round trip.
const utf8Decoder = new TextDecoder();

function decode(cookie: string) {
  // Decoding refuses what encoding would not have written, so that one
  // session has exactly one cookie value.
  const bytes = decodeBase64url(cookie);
  if (bytes === null) return undefined;
  return decodeRecord(utf8Decoder.decode(bytes));
}
