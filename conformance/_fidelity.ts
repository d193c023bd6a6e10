// Data fidelity: whatever JSON a session holds reads back exactly, and no
// object is shared between requests.

import assert from "node:assert/strict";
import type { SessionStorage } from "./_harness.ts";
import {
  readSession,
  request,
  type Rule,
  store,
  valuesOf,
} from "./_harness.ts";

/** Saves `values`, reads them back and compares them key by key. */
async function roundTrip(
  storage: SessionStorage,
  values: Record<string, unknown>,
): Promise<void> {
  const { session, cookie } = await store(storage, values);
  const again = await readSession(storage, cookie);
  assert.equal(again.id, session.id);
  const keys = Object.keys(values);
  assert.deepStrictEqual(valuesOf(again, keys), values);
  assert.equal(again.size, keys.length, "no value may appear or vanish");
}

function nested(depth: number): unknown {
  let value: unknown = { leaf: [depth, "end"] };
  for (let i = depth - 1; i >= 0; i--) {
    value = i % 2 ? [i, value] : { i, value };
  }
  return value;
}

/** Session values whose JSON text is exactly `bytes` bytes of UTF-8. */
export function valuesOfSize(bytes: number): Record<string, string> {
  const overhead = new TextEncoder().encode(JSON.stringify({ big: "" })).length;
  // Two-, three- and four-byte characters, then ASCII to the exact size.
  const unit = "é€😀";
  const unitBytes = 9;
  const room = bytes - overhead;
  const units = Math.floor(room / 2 / unitBytes);
  const big = unit.repeat(units) + "x".repeat(room - units * unitBytes);
  return { big };
}

export function fidelityRules(maxValueBytes: number): Rule[] {
  return [
    {
      rule: "strings, numbers and booleans read back unchanged",
      cause:
        "values are stored as text without JSON, or numbers lose precision in the database.",
      async check(storage) {
        await roundTrip(storage, {
          text: "hello",
          zero: 0,
          integer: 42,
          negative: -7,
          fraction: 0.1 + 0.2,
          tiny: 5e-324,
          huge: 1.7976931348623157e308,
          maxSafe: Number.MAX_SAFE_INTEGER,
          minSafe: Number.MIN_SAFE_INTEGER,
          yes: true,
          no: false,
          numericString: "0042",
          booleanString: "false",
        });
      },
    },
    {
      rule: "null inside arrays and objects reads back unchanged",
      cause: "the encoding drops null or turns it into undefined.",
      async check(storage) {
        await roundTrip(storage, {
          list: [null, 1, null],
          record: { missing: null, present: "x" },
        });
      },
    },
    {
      rule: "nested objects and arrays read back unchanged",
      cause:
        "the encoding keeps only a few levels, or flattens nested objects.",
      async check(storage) {
        await roundTrip(storage, {
          user: {
            name: "mj",
            roles: ["admin", "dev"],
            prefs: { theme: "dark" },
          },
          matrix: [[1, 2], [3, [4, [5]]]],
          deep: nested(40),
        });
      },
    },
    {
      rule: "empty strings, arrays and objects read back unchanged",
      cause:
        "the encoding drops empty strings, arrays, objects or keys, or turns them into null.",
      async check(storage) {
        await roundTrip(storage, {
          emptyString: "",
          emptyList: [],
          emptyRecord: {},
          listOfEmpties: ["", [], {}],
          "": "a value under the empty key",
        });
      },
    },
    {
      rule: "unicode text, astral plane included, reads back unchanged",
      cause:
        "text is stored in an encoding that loses characters outside the BMP (latin1, MySQL utf8mb3).",
      async check(storage) {
        await roundTrip(storage, {
          accents: "héllo wörld",
          cjk: "日本語のテキスト",
          rtl: "مرحبا שלום",
          emoji: "😀👍🏽👨‍👩‍👧‍👦",
          astral: "𝄞 𝕏 𠜎",
          combining: "e\u0301",
          "ключ 🔑": "unicode in the key",
        });
      },
    },
    {
      rule: "control characters, quotes and backslashes read back unchanged",
      cause:
        "the encoding strips or escapes control characters, quotes or backslashes.",
      async check(storage) {
        await roundTrip(storage, {
          whitespace: "tab\tnewline\ncarriage\rend",
          nul: "before\u0000after",
          controls: "\u0001\u001f\u007f",
          quotes: `"double" 'single' \`back\``,
          backslashes: "C:\\path\\to\\file \\u0041",
          separators: "line\u2028paragraph\u2029end",
          markup: "</script><!-- & -->",
          'key with "quotes" and \\': "value",
        });
      },
    },
    {
      rule:
        "keys like __proto__ and constructor stay plain data, with no prototype pollution",
      cause:
        'values are copied with plain assignment or Object.assign, which turns "__proto__" into a prototype, or the store strips such keys.',
      async check(storage) {
        const payload = JSON.parse(
          '{"__proto__": {"polluted": "yes"}, "constructor": ' +
            '{"prototype": {"polluted": "yes"}}}',
        );
        const values: Record<string, unknown> = {};
        for (
          const key of [
            "__proto__",
            "constructor",
            "prototype",
            "hasOwnProperty",
            "toString",
            "valueOf",
          ]
        ) {
          Object.defineProperty(values, key, {
            value: { polluted: "yes" },
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        values.payload = payload;
        try {
          await roundTrip(storage, values);
          const again = await request(storage, null);
          assert.equal(again.session.get("polluted"), undefined);
        } finally {
          const polluted = Object.hasOwn(Object.prototype, "polluted");
          // Undo the damage, so that one broken store fails one case only.
          delete (Object.prototype as Record<string, unknown>).polluted;
          assert.equal(polluted, false, "Object.prototype was polluted");
        }
      },
    },
    {
      rule: "a thousand values in one session read back unchanged",
      cause: "the store caps the number of keys.",
      async check(storage) {
        const values: Record<string, unknown> = {};
        for (let i = 0; i < 1000; i++) values[`key${i}`] = { i, text: `v${i}` };
        await roundTrip(storage, values);
      },
    },
    {
      rule: `a session of ${maxValueBytes} bytes of JSON reads back unchanged`,
      cause:
        "the store caps a session below maxValueBytes, or counts characters instead of bytes.",
      async check(storage) {
        await roundTrip(storage, valuesOfSize(maxValueBytes));
      },
    },
    {
      rule: "flash values of every JSON type read back unchanged",
      cause: "flash values go through another, lossier encoding than values.",
      async check(storage) {
        const flashed = {
          text: "Saved 😀",
          number: 1.5,
          yes: true,
          list: [null, "", {}],
          record: { nested: { deep: ["x"] } },
        };
        const submit = await request(storage, null, (session) => {
          for (const [key, value] of Object.entries(flashed)) {
            session.flash(key, value);
          }
        });
        const next = await readSession(storage, submit.cookie);
        assert.deepStrictEqual(valuesOf(next, Object.keys(flashed)), flashed);
      },
    },
    {
      rule: "a value changed after save does not change the stored session",
      cause:
        "the store keeps the session's objects instead of a serialized copy.",
      async check(storage) {
        const user = { name: "mj", roles: ["admin"] };
        const { cookie } = await store(storage, { user });
        user.name = "changed";
        user.roles.push("changed");
        const again = await readSession(storage, cookie);
        assert.deepStrictEqual(again.get("user"), {
          name: "mj",
          roles: ["admin"],
        });
      },
    },
    {
      rule: "two reads of one session share no objects",
      cause: "read hands out the stored objects instead of a copy.",
      async check(storage) {
        const { cookie } = await store(storage, {
          user: { name: "mj", roles: ["admin"] },
        });
        const first = await readSession(storage, cookie);
        const second = await readSession(storage, cookie);
        const user = first.get("user") as { name: string; roles: string[] };
        assert.notEqual(
          user,
          second.get("user"),
          "each read gets its own copy",
        );
        user.name = "changed";
        user.roles.push("changed");
        assert.deepStrictEqual(second.get("user"), {
          name: "mj",
          roles: ["admin"],
        });
        assert.deepStrictEqual(
          (await readSession(storage, cookie)).get("user"),
          {
            name: "mj",
            roles: ["admin"],
          },
        );
      },
    },
  ];
}
