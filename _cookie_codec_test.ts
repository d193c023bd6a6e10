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

// Sealed under SECRET for the cookie "sid" by the release before sealed
// values were packed (commit a013471), which sealed every value as ASCII:
// cookies users hold must read after an upgrade.
const SEALED_AS_ASCII: [value: string, sealed: string][] = [
  [
    "eyJ1c2VyIjoiYWRhIiwibiI6MX0",
    "cnAI7OlrqY3_3rnewSMTODaRRTWT3Cn_T9WxzFVjME1tRVHMe7SNowqe8wPy1ETPksf8VnEcZg",
  ],
  [
    "hello%20world",
    "k5pPRBq_W44JFJxr3qC4ripRQWDoWlN03mjAlGr4IHbm8ww2ilQH5_Y",
  ],
];
const IV_AND_TAG_BYTES = 12 + 16;

/** The plaintext of `wrapped`, sealed for "sid" under SECRET, by node:crypto. */
function plaintextOf(wrapped: string): Buffer {
  const sealed = Buffer.from(wrapped, "base64url");
  const decipher = nodeCrypto.createDecipheriv(
    "aes-256-gcm",
    nodeKey(SECRET, "encryption"),
    sealed.subarray(0, 12),
  );
  decipher.setAAD(Buffer.from("sid"));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  const plain = decipher.update(sealed.subarray(12, sealed.length - 16));
  return Buffer.concat([plain, decipher.final()]);
}

/** Unpadded base64url characters of `bytes` bytes. */
function base64urlLength(bytes: number): number {
  return Math.ceil(bytes * 4 / 3);
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
      assert.equal(plaintextOf(wrapped).toString(), "a value%20");
    });

    it(`cookie codec: ${label}, seals a base64url value as the bytes it decodes to, so the cookie is no longer than a signed one`, async () => {
      const encrypted = codec([SECRET], true);
      const signed = codec([SECRET], false);
      // Values of every length base64url has: 4k, 4k + 2, 4k + 3.
      for (const byteCount of [0, 1, 2, 3, 32, 2250, 6751]) {
        const bytes = nodeCrypto.randomBytes(byteCount);
        const value = bytes.toString("base64url");
        const wrapped = await encrypted.wrap(value);
        // The marker, an empty head, the bytes; the nonce and the tag.
        assert.deepEqual(
          plaintextOf(wrapped),
          Buffer.concat([Buffer.from([0, 0]), bytes]),
        );
        assert.equal(
          wrapped.length,
          base64urlLength(IV_AND_TAG_BYTES + 2 + bytes.length),
        );
        assert.ok(
          wrapped.length <= (await signed.wrap(value)).length,
          `${value.length} characters`,
        );
        assert.equal(await encrypted.unwrap(wrapped), value);
      }
    });

    it(`cookie codec: ${label}, seals a value that is not canonical base64url as ASCII and reads it back`, async () => {
      const encrypted = codec([SECRET], true);
      // Percent-encoded text, a character outside the alphabet, a length
      // base64url never has, stray bits in the last character, padding.
      for (const value of ["hello%20world", "a+b", "abcde", "AB", "QQ=="]) {
        const wrapped = await encrypted.wrap(value);
        assert.equal(plaintextOf(wrapped).toString("latin1"), value);
        assert.equal(await encrypted.unwrap(wrapped), value);
        assert.equal(
          await encrypted.unwrap(await encrypted.wrap(value, "2~")),
          "2~" + value,
        );
      }
    });

    it(`cookie codec: ${label}, reads the cookies the release before packing sealed, under a newer secret too`, async () => {
      for (const secrets of [[SECRET], [OLD_SECRET, SECRET]]) {
        const encrypted = codec(secrets, true);
        for (const [value, sealed] of SEALED_AS_ASCII) {
          assert.equal(await encrypted.unwrap(sealed), value);
        }
      }
    });

    it(`cookie codec: ${label}, a changed marker or head length reads as null, as any tampering does`, async () => {
      const encrypted = codec([SECRET], true);
      for (const [value, head] of [["eyJhIjoxfQ", ""], ["eyJhIjoxfQ", "3~"]]) {
        const wrapped = await encrypted.wrap(value, head);
        assert.equal(await encrypted.unwrap(wrapped), head + value);
        // The marker is the first byte after the nonce, the head length the
        // second; in counter mode a flipped ciphertext bit flips that bit
        // of the plaintext, which the tag must catch.
        for (const at of [12, 13]) {
          for (const bit of [0x01, 0x80]) {
            const sealed = Buffer.from(wrapped, "base64url");
            sealed[at] ^= bit;
            const tampered = sealed.toString("base64url");
            assert.equal(
              await encrypted.unwrap(tampered),
              null,
              `${at} ${bit}`,
            );
          }
        }
      }
    });

    it(`cookie codec: ${label}, opens what the other implementation sealed, under older secrets too`, async () => {
      for (const [otherLabel, other] of variants) {
        const writer = createCodec("test", "sid", [OLD_SECRET], true, other);
        const reader = codec([SECRET, OLD_SECRET], true);
        // Packed and ASCII, each with and without a chunk head.
        for (const value of ["abc", "eyJhIjoxfQ", "a+b", "hello%20world"]) {
          for (const head of [undefined, "12~"]) {
            const wrapped = await writer.wrap(value, head);
            const expected = (head ?? "") + value;
            assert.equal(await reader.unwrap(wrapped), expected, otherLabel);
            const tampered = wrapped.slice(0, 20) +
              (wrapped[20] === "A" ? "B" : "A") + wrapped.slice(21);
            assert.equal(await reader.unwrap(tampered), null, otherLabel);
            assert.equal(await codec([SECRET], true).unwrap(wrapped), null);
          }
        }
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
