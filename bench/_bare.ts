// The peer libraries for Bun and Node, which resolve bare specifiers from
// node_modules (Deno imports them with `npm:` specifiers, in _npm.ts).

import { createCookie as remixCreateCookie } from "@remix-run/cookie";
import { parseSigned, serializeSigned } from "hono/utils/cookie";
import * as cookieSignature from "cookie-signature";
import { parseCookie, stringifySetCookie } from "cookie";
import { sealData, unsealData } from "iron-session";
import type { Libraries } from "./_cookie_cases.ts";

export const libraries: Libraries = {
  remixCreateCookie: remixCreateCookie as Libraries["remixCreateCookie"],
  hono: { serializeSigned, parseSigned },
  cookieSignature,
  cookie: { parseCookie, stringifySetCookie },
  iron: { sealData, unsealData },
};
