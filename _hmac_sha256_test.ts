import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import fc from "fast-check";
import { createHmacSha256 } from "./_hmac_sha256.ts";

/** The MAC in hex, computed by the module under test. */
function macOf(key: Uint8Array, message: Uint8Array | string): string {
  const out = Buffer.alloc(32);
  const text = typeof message === "string"
    ? message
    : Buffer.from(message).toString("latin1");
  createHmacSha256(key)(text, out);
  return out.toString("hex");
}

/** The MAC in hex, computed by node:crypto. */
function nodeMacOf(key: Uint8Array, message: Uint8Array): string {
  return createHmac("sha256", key).update(message).digest("hex");
}

// RFC 4231 section 4, HMAC-SHA-256 results. Case 5's MAC is truncated to
// its first 128 bits, as the RFC gives it.
const RFC_4231_CASES = [
  {
    name: "case 1: a 20-byte key",
    key: Buffer.alloc(20, 0x0b),
    data: Buffer.from("Hi There"),
    mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    name: "case 2: a key shorter than the MAC",
    key: Buffer.from("Jefe"),
    data: Buffer.from("what do ya want for nothing?"),
    mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    name: "case 3: 50 bytes of 0xdd under 20 bytes of 0xaa",
    key: Buffer.alloc(20, 0xaa),
    data: Buffer.alloc(50, 0xdd),
    mac: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  },
  {
    name: "case 4: a 25-byte key 0x01 to 0x19",
    key: Buffer.from(Array.from({ length: 25 }, (_, i) => i + 1)),
    data: Buffer.alloc(50, 0xcd),
    mac: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  },
  {
    name: "case 5: truncated to 128 bits",
    key: Buffer.alloc(20, 0x0c),
    data: Buffer.from("Test With Truncation"),
    mac: "a3b6167473100ee06e0c796c2955552b",
  },
  {
    name: "case 6: a 131-byte key, hashed first",
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from("Test Using Larger Than Block-Size Key - Hash Key First"),
    mac: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
  {
    name: "case 7: a 131-byte key and 152 bytes of data",
    key: Buffer.alloc(131, 0xaa),
    data: Buffer.from(
      "This is a test using a larger than block-size key and a larger " +
        "than block-size data. The key needs to be hashed before being " +
        "used by the HMAC algorithm.",
    ),
    mac: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  },
];

describe("HMAC-SHA256 in JavaScript", () => {
  for (const { name, key, data, mac } of RFC_4231_CASES) {
    it(`hmac-sha256: gives the MAC of RFC 4231 test ${name}`, () => {
      assert.equal(macOf(key, data).slice(0, mac.length), mac);
    });
  }

  it("hmac-sha256: equals node:crypto's createHmac for random keys of 0-200 bytes and messages of every length from 0 to 300 bytes", () => {
    // Every length at least once (the examples), so that every padding
    // boundary is crossed: 55/56 bytes fill one block, 63/64 end it,
    // 119/120 fill two, and so on. Then random keys, bytes and lengths.
    const seeded = (length: number, seed: number) =>
      Uint8Array.from({ length }, (_, i) => (i * 167 + seed * 31 + 7) & 0xff);
    const examples: [Uint8Array, Uint8Array][] = Array.from(
      { length: 301 },
      (_, length) => [seeded(length % 201, length), seeded(length, length)],
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 300 }),
        (key, message) => {
          assert.equal(macOf(key, message), nodeMacOf(key, message));
        },
      ),
      { numRuns: 2000, examples },
    );
  });

  it("hmac-sha256: equals node:crypto's createHmac for a message of many blocks", () => {
    const key = Buffer.from("a key of 32 bytes, for a cookie!");
    const message = Buffer.alloc(100_003, 0x5a);
    assert.equal(macOf(key, message), nodeMacOf(key, message));
  });

  it("hmac-sha256: keeps each key's MAC apart when two keys are used in turn", () => {
    const first = createHmacSha256(Buffer.from("first key"));
    const second = createHmacSha256(Buffer.alloc(100, 1));
    const out = Buffer.alloc(32);
    for (const message of ["a", "b".repeat(64), "c".repeat(200), ""]) {
      first(message, out);
      assert.equal(
        out.toString("hex"),
        nodeMacOf(Buffer.from("first key"), Buffer.from(message)),
      );
      second(message, out);
      assert.equal(
        out.toString("hex"),
        nodeMacOf(Buffer.alloc(100, 1), Buffer.from(message)),
      );
    }
  });

  it("hmac-sha256: refuses a message with a character that is not a byte", () => {
    const mac = createHmacSha256(Buffer.from("key"));
    const out = Buffer.alloc(32);
    assert.throws(() => mac("caf\u00e9 \u2615", out), RangeError);
    assert.throws(() => mac("\u0100", out), /above U\+00FF/);
  });
});
