import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import {
  allocBytes,
  decodeBase64url,
  encodeAllocated,
  encodeBase64url,
} from "./_base64url.ts";

test("base64url: encodes as Buffer does, and decodes back", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const text = encodeBase64url(bytes);
      assert.equal(text, Buffer.from(bytes).toString("base64url"));
      assert.deepEqual(decodeBase64url(text), bytes);
      const allocated = allocBytes(bytes.length);
      allocated.set(bytes);
      assert.equal(encodeAllocated(allocated), text);
    }),
  );
});

test("base64url: refuses any text it would not have written", () => {
  for (
    const text of [
      "A",
      "AAAAA",
      "AB",
      "AAB",
      "AA==",
      "A+AA",
      "A/AA",
      "é",
      "A A",
    ]
  ) {
    assert.equal(decodeBase64url(text), null, text);
  }
  // The same bytes have one spelling only: stray bits are refused.
  assert.deepEqual(decodeBase64url("AA"), new Uint8Array([0]));
  assert.deepEqual(decodeBase64url("AAA"), new Uint8Array([0, 0]));
  assert.deepEqual(decodeBase64url(""), new Uint8Array(0));
});
