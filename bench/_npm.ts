// deno-lint-ignore-file no-import-prefix
// The peer libraries, imported for Deno with `npm:` specifiers, as the
// benchmark issue asks, so each import names the exact version it measures;
// they resolve to the versions pinned in package.json and installed in
// node_modules. Bun and Node import the same packages by their bare names
// (cookie_mitata.ts).

import { createCookie as remixCreateCookie } from "npm:@remix-run/cookie@0.5.3";
import { parseSigned, serializeSigned } from "npm:hono@4.13.19/utils/cookie";
import * as cookieSignature from "npm:cookie-signature@1.2.2";
import { parseCookie, stringifySetCookie } from "npm:cookie@2.0.2";
import { sealData, unsealData } from "npm:iron-session@9.0.1";
import type { Libraries } from "./_cookie_cases.ts";

export const libraries: Libraries = {
  remixCreateCookie: remixCreateCookie as Libraries["remixCreateCookie"],
  hono: { serializeSigned, parseSigned },
  cookieSignature,
  cookie: { parseCookie, stringifySetCookie },
  iron: { sealData, unsealData },
};
