import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import * as nodeCrypto from "node:crypto";
import { createCodec, type NodeCrypto } from "./_cookie_codec.ts";

const SECRET = "first secret, at least 32 bytes long!!";
const OLD_SECRET = "an older secret, also 32 bytes or more";

/** HKDF-SHA256 as node:crypto computes it, which cookies have always used. */
function nodeKey(secret: string, purpose: string): Buffer {
  return Buffer.from(
    nodeCrypto.hkdfSync(
      "sha256",
      secret,
      "",
      `@x/session cookie ${purpose} v1`,
      32,
    ),
  );
}

// With `node:crypto` where the runtime has it, and with Web Crypto and the
// HMAC in JavaScript only, as on Cloudflare Workers.
const variants: [string, NodeCrypto | undefined][] = [
  ["node:crypto", nodeCrypto as unknown as NodeCrypto],
  ["Web Crypto", undefined],
];

for (const [label, node] of variants) {
  describe(`cookie codec with ${label}`, () => {
    const codec = (secrets: string[], encrypt: boolean) =>
      createCodec("test", "sid", secrets, encrypt, node);

    it(`cookie codec: ${label}, signs as HMAC-SHA256 under the HKDF key, short and long values alike`, async () => {
      const signed = codec([SECRET], false);
      for (const value of ["abc", "v".repeat(2000)]) {
        const mac = nodeCrypto.createHmac("sha256", nodeKey(SECRET, "signing"))
          .update("sid=" + value).digest("base64url");
        const wrapped = await signed.wrap(value);
        assert.equal(wrapped, `${value}.${mac}`);
        assert.equal(await signed.unwrap(wrapped), value);
        const at = wrapped.length - 5;
        const tampered = wrapped.slice(0, at) +
          (wrapped[at] === "A" ? "B" : "A") + wrapped.slice(at + 1);
        assert.equal(await signed.unwrap(tampered), null);
      }
    });

    it(`cookie codec: ${label}, encrypts with AES-256-GCM under the HKDF key`, async () => {
      const encrypted = codec([SECRET], true);
      const wrapped = await encrypted.wrap("a value%20");
      const sealed = Buffer.from(wrapped, "base64url");
      const decipher = nodeCrypto.createDecipheriv(
        "aes-256-gcm",
        nodeKey(SECRET, "encryption"),
        sealed.subarray(0, 12),
      );
      decipher.setAAD(Buffer.from("sid"));
      decipher.setAuthTag(sealed.subarray(sealed.length - 16));
      const plain = decipher.update(sealed.subarray(12, sealed.length - 16));
      assert.equal(
        Buffer.concat([plain, decipher.final()]).toString(),
        "a value%20",
      );
    });

    it(`cookie codec: ${label}, opens what the other implementation sealed, under older secrets too`, async () => {
      for (const [otherLabel, other] of variants) {
        const writer = createCodec("test", "sid", [OLD_SECRET], true, other);
        const reader = codec([SECRET, OLD_SECRET], true);
        const wrapped = await writer.wrap("abc");
        assert.equal(await reader.unwrap(wrapped), "abc", otherLabel);
        const tampered = wrapped.slice(0, 20) +
          (wrapped[20] === "A" ? "B" : "A") + wrapped.slice(21);
        assert.equal(await reader.unwrap(tampered), null, otherLabel);
        assert.equal(await codec([SECRET], true).unwrap(wrapped), null);
      }
    });

    it(`cookie codec: ${label}, refuses sealed values too short or not canonical base64url`, async () => {
      const encrypted = codec([SECRET], true);
      const wrapped = await encrypted.wrap("abc");
      for (const raw of ["", "AAAA", wrapped + "A", wrapped.slice(0, 37)]) {
        assert.equal(await encrypted.unwrap(raw), null, raw);
      }
    });
  });
}
