// A cookie-store session in 12 kB of chunked cookies, against one in a
// cookie of 3 kB, signed and encrypted: serialize (serializeAll for the
// chunked set) and parse of a Cookie header that also holds five other
// cookies. Run once with `deno bench -A bench/chunked_cookie_bench.ts`;
// BENCHMARKS.md quotes the figures.

import assert from "node:assert/strict";
import { createCookie } from "../cookie.ts";

const SECRET = "a benchmark secret of 32 bytes or more";
const OTHERS = "_ga=GA1.1.1234567890.1700000000; theme=dark; lang=en; " +
  "consent=all; _gid=GA1.1.987654321.1700000000";

/** Base64url-looking text, what the cookie store hands to the cookie. */
function storeValue(length: number): string {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[(i * 7919) % 64];
  return out;
}

for (const encrypt of [false, true]) {
  // Encryption seals a base64url value as its bytes: the same size signed.
  const small = storeValue(3_000);
  const large = storeValue(12_000);
  const kind = encrypt ? "encrypted" : "signed";
  const one = createCookie("sid", { secrets: [SECRET], encrypt });
  const chunked = createCookie("sid", {
    secrets: [SECRET],
    encrypt,
    chunked: { maxBytes: 16 * 1024 },
  });
  const oneHeader = `${OTHERS}; ${(await one.serialize(small)).split(";")[0]}`;
  const setCookies = await chunked.serializeAll(large, null);
  const chunkedHeader = `${OTHERS}; ${
    setCookies.map((h) => h.split(";")[0]).join("; ")
  }`;
  assert.equal(await one.parse(oneHeader), small);
  assert.equal(await chunked.parse(chunkedHeader), large);
  console.log(
    `${kind}: one cookie ${oneHeader.length - OTHERS.length - 2} bytes; ` +
      `chunked ${setCookies.length} cookies, ` +
      `${chunkedHeader.length - OTHERS.length - 2} bytes`,
  );

  Deno.bench(`${kind}: one cookie of 3 kB`, {
    group: `serialize, ${kind}`,
    baseline: true,
  }, async () => {
    await one.serialize(small);
  });
  Deno.bench(`${kind}: 12 kB chunked`, {
    group: `serialize, ${kind}`,
  }, async () => {
    await chunked.serializeAll(large, null);
  });
  Deno.bench(`${kind}: one cookie of 3 kB`, {
    group: `parse, ${kind}`,
    baseline: true,
  }, async () => {
    await one.parse(oneHeader);
  });
  Deno.bench(`${kind}: 12 kB chunked`, {
    group: `parse, ${kind}`,
  }, async () => {
    await chunked.parse(chunkedHeader);
  });
}
