// Robustness: whatever a client sends as the cookie value, read resolves to
// a working new session and never rejects.

import assert from "node:assert/strict";
import type { SessionStorage } from "./_harness.ts";
import {
  assertNewSession,
  readSession,
  request,
  type Rule,
  store,
} from "./_harness.ts";

/** Reads each value and asserts that it gives a new, empty session. */
async function readsAsNew(
  storage: SessionStorage,
  values: Record<string, string>,
): Promise<void> {
  // A session to be sure the store is not empty, which hides some faults.
  await store(storage, { user: "mj" });
  for (const [label, value] of Object.entries(values)) {
    const session = await readSession(storage, value);
    assertNewSession(session, value, `read of ${label}`);
  }
}

function binaryString(length: number, seed: number): string {
  let text = "";
  for (let i = 0; i < length; i++) {
    text += String.fromCharCode((i * 131 + seed * 17 + 7) % 256);
  }
  return text;
}

export const robustnessRules: Rule[] = [
  {
    rule: "read of an empty cookie value gives a new session",
    cause: 'read looks up "" as an id, or throws on it.',
    async check(storage) {
      await readsAsNew(storage, { "an empty string": "" });
    },
  },
  {
    rule: "read of garbage gives a new session",
    cause: "read throws on a value it cannot parse or look up.",
    async check(storage) {
      await readsAsNew(storage, {
        "a word": "garbage",
        "a single character": "x",
        "punctuation": "%%%;,=\"'\\",
        "a percent-encoded value": "s%3Aabc.def%3D%3D",
        "a signed-cookie look-alike": "s:abcdef.ghijkl",
        "base64 of nothing useful": "bm90IGEgc2Vzc2lvbg",
        "JSON text": '{"user":"admin"}',
        "a JSON array": "[[{},{}],null]",
        "the word null": "null",
        "the word undefined": "undefined",
        "a number": "12345",
        "whitespace": " \t ",
        "a very long id-like value": "A".repeat(4096),
      });
    },
  },
  {
    rule: "read of a 100 kB cookie value gives a new session",
    cause:
      "read throws on a value too long for the database's keys instead of answering a new session.",
    async check(storage) {
      await readsAsNew(storage, {
        "100 kB of letters": "ab".repeat(50_000),
        "100 kB of base64url": "QUJD_-".repeat(16_667),
        "100 kB of JSON": JSON.stringify({ d: "x".repeat(100_000) }),
      });
    },
  },
  {
    rule: "read of a binary-looking cookie value gives a new session",
    cause: "read throws on characters the database or the decoder refuses.",
    async check(storage) {
      await readsAsNew(storage, {
        "NUL characters": "\u0000\u0000\u0000",
        "control characters": "\u0001\u0002\r\n\u001b[0m",
        "bytes 0 to 255": binaryString(256, 0),
        "a lone surrogate": "abc\ud800def",
        "astral characters": "😀😀😀",
        "replacement characters": "\ufffd\ufffd",
        "a byte order mark": "\ufeffabc",
      });
    },
  },
  {
    rule: "read of a value like __proto__ or constructor gives a new session",
    cause:
      'the store keeps sessions in a plain object, where "__proto__" finds Object.prototype.',
    async check(storage) {
      await readsAsNew(storage, {
        "__proto__": "__proto__",
        "constructor": "constructor",
        "prototype": "prototype",
        "toString": "toString",
        "hasOwnProperty": "hasOwnProperty",
        "valueOf": "valueOf",
      });
    },
  },
  {
    rule: "read of a path-like cookie value gives a new session",
    cause:
      "the store builds a file path from the cookie value without hashing or escaping it.",
    async check(storage) {
      await readsAsNew(storage, {
        "a parent path": "../../../../../../etc/passwd",
        "an absolute path": "/etc/passwd",
        "a dot": ".",
        "two dots": "..",
        "a Windows path": "..\\..\\windows\\win.ini",
        "a slash": "/",
        "a URL": "file:///etc/passwd",
      });
    },
  },
  {
    rule: "read of a truncated or doubled cookie value gives a new session",
    cause: "read accepts a part of a real value, or throws on a damaged one.",
    async check(storage) {
      const { cookie } = await store(storage, { user: "mj" });
      const half = Math.floor(cookie.length / 2);
      await readsAsNew(storage, {
        "the first half of a real value": cookie.slice(0, half),
        "the second half of a real value": cookie.slice(half),
        "a real value twice": cookie + cookie,
      });
    },
  },
  {
    rule: "a new session read from garbage can be saved and read back",
    cause:
      "a session read from garbage keeps the garbage as its id, which save then refuses.",
    async check(storage) {
      const garbage = binaryString(64, 3);
      const first = await request(storage, garbage, (session) => {
        session.set("user", "mj");
      });
      assert.ok(first.saved, "save must give a cookie value");
      assert.notEqual(first.saved, garbage);
      const again = await readSession(storage, first.cookie);
      assert.equal(again.id, first.session.id);
      assert.equal(again.get("user"), "mj");
    },
  },
];
