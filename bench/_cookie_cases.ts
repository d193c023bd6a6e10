// The cookie benchmark's groups and cases, shared by `deno bench`
// (cookie_bench.ts), mitata under Bun and Node (cookie_mitata.ts) and the CI
// comparison (ci.ts). The libraries come in as arguments because Deno imports
// them with `npm:` specifiers and Bun and Node with bare ones.
//
// Every case is run once and its result checked before anything is timed, so
// that no library is measured on a path that fails.

import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { createCookie } from "../cookie.ts";
import {
  ATTRIBUTES,
  COOKIE_NAME,
  cookieHeader,
  MAX_AGE,
  pairOf,
  PASSWORD,
  SECRET,
  SESSION_DATA,
  SESSION_VALUE,
} from "./_fixtures.ts";

// deno-lint-ignore no-explicit-any
type AnyFunction = (...args: any[]) => any;

/** A cookie object with the shape of `createCookie(...)` in `@remix-run/cookie`. */
export interface CookieLike {
  serialize(value: string, overrides?: object): Promise<string> | string;
  parse(header: string | null): Promise<unknown> | unknown;
}

/** The libraries the cases compare, passed in by each runner. */
export interface Libraries {
  remixCreateCookie: (
    name: string,
    options: Record<string, unknown>,
  ) => CookieLike;
  hono: { serializeSigned: AnyFunction; parseSigned: AnyFunction };
  cookieSignature: { sign: AnyFunction; unsign: AnyFunction };
  cookie: { parseCookie: AnyFunction; stringifySetCookie: AnyFunction };
  iron: { sealData: AnyFunction; unsealData: AnyFunction };
}

/** Who a case is: this module, a library people use, or a lower bound. */
export type CaseKind = "module" | "peer" | "floor";

/** One timed function. */
export interface Case {
  name: string;
  kind: CaseKind;
  fn: () => unknown;
}

/** Cases timed side by side; ratios are taken against the module's case. */
export interface Group {
  name: string;
  cases: Case[];
}

/** The name of this module's row in every group. */
export const MODULE_NAME = "@x/session";

const attributes = {
  httpOnly: true,
  secure: true,
  sameSite: "lax",
  path: "/",
  maxAge: MAX_AGE,
} as const;

/**
 * Builds the groups: sign + serialize, parse + verify, and the encrypted
 * pair. Checks every case's result first and throws if one is wrong.
 */
export async function cookieGroups(libs: Libraries): Promise<Group[]> {
  const sign: Case[] = [];
  const parse: Case[] = [];
  const sealCases: Case[] = [];
  const unsealCases: Case[] = [];

  {
    const cookie = createCookie(COOKIE_NAME, {
      secrets: [SECRET],
      ...attributes,
      sameSite: "Lax",
    });
    const header = cookieHeader(pairOf(await cookie.serialize(SESSION_VALUE)));
    sign.push({
      name: MODULE_NAME,
      kind: "module",
      fn: () => cookie.serialize(SESSION_VALUE),
    });
    parse.push({
      name: MODULE_NAME,
      kind: "module",
      fn: () => cookie.parse(header),
    });

    const sealed = createCookie(COOKIE_NAME, {
      secrets: [SECRET],
      encrypt: true,
      ...attributes,
      sameSite: "Lax",
    });
    const sealedHeader = cookieHeader(
      pairOf(await sealed.serialize(SESSION_VALUE)),
    );
    sealCases.push({
      name: MODULE_NAME,
      kind: "module",
      fn: () => sealed.serialize(SESSION_VALUE),
    });
    unsealCases.push({
      name: MODULE_NAME,
      kind: "module",
      fn: () => sealed.parse(sealedHeader),
    });
  }

  {
    const cookie = libs.remixCreateCookie(COOKIE_NAME, {
      secrets: [SECRET],
      ...attributes,
      sameSite: "Lax",
    });
    const header = cookieHeader(pairOf(await cookie.serialize(SESSION_VALUE)));
    sign.push({
      name: "@remix-run/cookie",
      kind: "peer",
      fn: () => cookie.serialize(SESSION_VALUE),
    });
    parse.push({
      name: "@remix-run/cookie",
      kind: "peer",
      fn: () => cookie.parse(header),
    });
  }

  {
    const { serializeSigned, parseSigned } = libs.hono;
    const options = { ...attributes, sameSite: "Lax" };
    const header = cookieHeader(
      pairOf(
        await serializeSigned(COOKIE_NAME, SESSION_VALUE, SECRET, options),
      ),
    );
    sign.push({
      name: "hono serializeSigned",
      kind: "peer",
      fn: () => serializeSigned(COOKIE_NAME, SESSION_VALUE, SECRET, options),
    });
    parse.push({
      name: "hono parseSigned",
      kind: "peer",
      fn: async () =>
        (await parseSigned(header, SECRET, COOKIE_NAME))[COOKIE_NAME],
    });
  }

  {
    // What Express does: cookie-parser's "s:" prefix, cookie-signature's
    // HMAC, and the cookie package's serializer and parser.
    const { sign: signValue, unsign } = libs.cookieSignature;
    const { parseCookie, stringifySetCookie } = libs.cookie;
    const serialize = () =>
      stringifySetCookie({
        name: COOKIE_NAME,
        value: "s:" + signValue(SESSION_VALUE, SECRET),
        ...attributes,
      });
    const header = cookieHeader(pairOf(serialize()));
    sign.push({
      name: "cookie-signature + cookie",
      kind: "peer",
      fn: serialize,
    });
    parse.push({
      name: "cookie + cookie-signature",
      kind: "peer",
      fn: () => {
        const value = parseCookie(header)[COOKIE_NAME];
        return typeof value === "string" && value.startsWith("s:")
          ? unsign(value.slice(2), SECRET)
          : false;
      },
    });
  }

  {
    // The least any signed cookie costs: one HMAC-SHA256 over the same bytes
    // and the string around it, with no encoding and no validation.
    const serialize = () =>
      `${COOKIE_NAME}=${SESSION_VALUE}.${
        createHmac("sha256", SECRET).update(SESSION_VALUE).digest("base64url")
      }; ${ATTRIBUTES}`;
    const header = cookieHeader(pairOf(serialize()));
    const prefix = `${COOKIE_NAME}=`;
    sign.push({
      name: "floor: node:crypto createHmac",
      kind: "floor",
      fn: serialize,
    });
    parse.push({
      name: "floor: node:crypto createHmac",
      kind: "floor",
      fn: () => {
        const start = header.indexOf(prefix) + prefix.length;
        const end = header.indexOf(";", start);
        const signed = header.slice(start, end === -1 ? undefined : end);
        const dot = signed.lastIndexOf(".");
        const value = signed.slice(0, dot);
        const expected = createHmac("sha256", SECRET).update(value).digest();
        const given = Buffer.from(signed.slice(dot + 1), "base64url");
        return given.length === expected.length &&
            timingSafeEqual(given, expected)
          ? value
          : null;
      },
    });
  }

  {
    const encoder = new TextEncoder();
    const key = await crypto.subtle.importKey(
      "raw",
      encoder.encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const serialize = async () => {
      const signature = await crypto.subtle.sign(
        "HMAC",
        key,
        encoder.encode(SESSION_VALUE),
      );
      return `${COOKIE_NAME}=${SESSION_VALUE}.${
        Buffer.from(signature).toString("base64url")
      }; ${ATTRIBUTES}`;
    };
    const header = cookieHeader(pairOf(await serialize()));
    const prefix = `${COOKIE_NAME}=`;
    sign.push({
      name: "floor: WebCrypto HMAC, cached key",
      kind: "floor",
      fn: serialize,
    });
    parse.push({
      name: "floor: WebCrypto HMAC, cached key",
      kind: "floor",
      fn: async () => {
        const start = header.indexOf(prefix) + prefix.length;
        const end = header.indexOf(";", start);
        const signed = header.slice(start, end === -1 ? undefined : end);
        const dot = signed.lastIndexOf(".");
        const value = signed.slice(0, dot);
        const ok = await crypto.subtle.verify(
          "HMAC",
          key,
          Buffer.from(signed.slice(dot + 1), "base64url"),
          encoder.encode(value),
        );
        return ok ? value : null;
      },
    });
  }

  {
    const { sealData, unsealData } = libs.iron;
    const { parseCookie, stringifySetCookie } = libs.cookie;
    const seal = async () =>
      stringifySetCookie({
        name: COOKIE_NAME,
        value: await sealData(SESSION_DATA, { password: PASSWORD }),
        ...attributes,
      });
    const header = cookieHeader(pairOf(await seal()));
    sealCases.push({
      name: "iron-session sealData",
      kind: "peer",
      fn: seal,
    });
    unsealCases.push({
      name: "iron-session unsealData",
      kind: "peer",
      fn: () =>
        unsealData(parseCookie(header)[COOKIE_NAME], { password: PASSWORD }),
    });
  }

  const groups = [
    { name: "sign + serialize", cases: sign },
    { name: "parse + verify", cases: parse },
    { name: "encrypted: encrypt + serialize", cases: sealCases },
    { name: "encrypted: parse + decrypt", cases: unsealCases },
  ];
  for (const group of groups) {
    for (const { name, fn } of group.cases) {
      check(group.name, name, await fn());
    }
  }
  return groups;
}

function check(group: string, name: string, result: unknown): void {
  const ok = group.includes("serialize")
    ? typeof result === "string" && result.startsWith(`${COOKIE_NAME}=`) &&
      /Max-Age=86400/i.test(result) && /HttpOnly/i.test(result) &&
      /Secure/i.test(result) && /SameSite=Lax/i.test(result) &&
      /Path=\//i.test(result)
    : result === SESSION_VALUE ||
      JSON.stringify(result) === SESSION_VALUE;
  if (!ok) {
    throw new Error(
      `bench: "${name}" in group "${group}" returned ${
        JSON.stringify(result)
      }, not the expected cookie; fix the case before timing it.`,
    );
  }
}
