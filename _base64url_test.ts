import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import {
  allocBytes,
  decodeBase64url,
  decodeBase64urlAfter,
  encodeAllocated,
  encodeBase64url,
  encodeUtf8Base64url,
} from "./_base64url.ts";

test("base64url: encodes as Buffer does, and decodes back", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      const text = encodeBase64url(bytes);
      assert.equal(text, Buffer.from(bytes).toString("base64url"));
      assert.deepEqual(new Uint8Array(decodeBase64url(text)!), bytes);
      const into = new Uint8Array(bytes.length);
      assert.equal(decodeBase64url(text, into), into);
      assert.deepEqual(into, bytes);
      const after = decodeBase64urlAfter(text, 2)!;
      assert.deepEqual(new Uint8Array(after.subarray(2)), bytes);
      assert.equal(after.length, 2 + bytes.length);
      const allocated = allocBytes(bytes.length);
      allocated.set(bytes);
      assert.equal(encodeAllocated(allocated), text);
    }),
  );
});

test("base64url: a string's UTF-8 encodes as TextEncoder's bytes do, lone surrogates included", () => {
  const utf8 = new TextEncoder();
  for (const text of ["", "a", "é€😀", "\ud800", "x\udc00y", '{"k":"v"}']) {
    assert.equal(encodeUtf8Base64url(text), encodeBase64url(utf8.encode(text)));
  }
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
      assert.equal(
        encodeUtf8Base64url(text),
        encodeBase64url(utf8.encode(text)),
      );
    }),
  );
});

test("base64url: refuses any text it would not have written", () => {
  const texts = ["A", "AAAAA", "AB", "AAB", "AA==", "A+AA", "A/AA", "é", "A A"];
  for (const text of texts) {
    assert.equal(decodeBase64url(text), null, text);
    // The loop that decodes into a given buffer refuses the same texts.
    assert.equal(decodeBase64url(text, new Uint8Array(3)), null, text);
    assert.equal(decodeBase64urlAfter(text, 2), null, text);
  }
  // The same bytes have one spelling only: stray bits are refused.
  const bytesOf = (text: string) => Array.from(decodeBase64url(text) ?? []);
  assert.deepEqual(bytesOf("AA"), [0]);
  assert.deepEqual(bytesOf("AAA"), [0, 0]);
  assert.deepEqual(bytesOf(""), []);
});
