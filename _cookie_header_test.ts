import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkBoolean,
  COOKIE_OCTETS,
  cookieValueAt,
  decodeValue,
  encodeValue,
  findCookie,
  formatAttributes,
  TOKEN,
} from "./_cookie_header.ts";
import type { CookieAttributes } from "./cookie.ts";

/** The value of the first `name` cookie in `header`, or null. */
function valueOf(header: string, name: string): string | null {
  const start = findCookie(header, name, 0);
  return start === -1 ? null : cookieValueAt(header, start);
}

// RFC 9110 tchar and RFC 6265 cookie-octet, spelled out character by
// character rather than as ranges.
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" +
  "abcdefghijklmnopqrstuvwxyz";
const TOKEN_CHARACTERS = ALPHANUMERIC + "!#$%&'*+-.^_`|~";
const COOKIE_CHARACTERS = ALPHANUMERIC + "!#$%&'()*+-./:<=>?@[]^_`{|}~";

/** Checks that `pattern` takes `a<c>b` for each byte `c` in `characters` only. */
function assertTakesOnly(pattern: RegExp, characters: string): void {
  for (let code = 0; code < 256; code++) {
    const character = String.fromCharCode(code);
    assert.equal(
      pattern.test(`a${character}b`),
      characters.includes(character),
      `U+${code.toString(16)}`,
    );
  }
}

test("cookie header: TOKEN takes a name made of RFC 9110 token characters only", () => {
  assertTakesOnly(TOKEN, TOKEN_CHARACTERS);
  assert.equal(TOKEN.test(""), false);
  assert.equal(TOKEN.test("sid\n"), false);
});

test("cookie header: COOKIE_OCTETS takes the empty value and RFC 6265 cookie-octets only", () => {
  assertTakesOnly(COOKIE_OCTETS, COOKIE_CHARACTERS);
  assert.equal(COOKIE_OCTETS.test(""), true);
  assert.equal(COOKIE_OCTETS.test("abc\n"), false);
});

test("cookie header: findCookie returns the index just past the pair's '='", () => {
  const header = "a=1; sid=abc";
  assert.equal(findCookie(header, "sid", 0), header.indexOf("abc"));
  assert.equal(findCookie("sid=", "sid", 0), 4);
  assert.equal(findCookie("sid \t=\t abc", "sid", 0), 6);
});

test("cookie header: findCookie skips a cookie whose name ends with the name sought", () => {
  assert.equal(valueOf("xsid=1; sid=2", "sid"), "2");
  assert.equal(valueOf("a=1;xsid=1", "sid"), null);
});

test("cookie header: findCookie skips a cookie whose name starts with the name sought", () => {
  assert.equal(valueOf("sidx=1; sid=2", "sid"), "2");
  assert.equal(valueOf("sid.1=1; sid=2", "sid"), "2");
  assert.equal(valueOf("sid x=1", "sid"), null);
});

test("cookie header: findCookie skips the name inside another cookie's value", () => {
  assert.equal(valueOf("a=sid=1; sid=2", "sid"), "2");
  assert.equal(valueOf("a=x sid=1; sid=2", "sid"), "2");
  assert.equal(valueOf("a=x\tsid=1", "sid"), null);
});

test("cookie header: findCookie finds a name with spaces and tabs around it, and one after empty pairs", () => {
  assert.equal(valueOf("a=1;\t sid \t= 2", "sid"), "2");
  assert.equal(valueOf("\tsid=2", "sid"), "2");
  assert.equal(valueOf(" ;; sid=2;;", "sid"), "2");
  assert.equal(valueOf("a=1;sid=2", "sid"), "2");
});

test("cookie header: findCookie matches the name exactly, case included", () => {
  assert.equal(valueOf("SID=1", "sid"), null);
  assert.equal(valueOf("sid", "sid"), null);
  assert.equal(valueOf("a=1; sid  ", "sid"), null);
  assert.equal(valueOf("sid;=1", "sid"), null);
});

test("cookie header: findCookie finds the first of duplicate names, and each next one from the index it returned", () => {
  const header = "sid=sid=first; a=sid=no; sid=second;sid=third";
  const found: string[] = [];
  for (
    let start = findCookie(header, "sid", 0);
    start !== -1;
    start = findCookie(header, "sid", start)
  ) {
    found.push(cookieValueAt(header, start));
  }
  assert.deepEqual(found, ["sid=first", "second", "third"]);
});

test("cookie header: findCookie looks at or after from, and not before", () => {
  const header = "sid=1; a=2; sid=3";
  const second = header.lastIndexOf("sid");
  assert.equal(findCookie(header, "sid", second), second + 4);
  assert.equal(findCookie(header, "sid", second + 1), -1);
  assert.equal(findCookie(header, "sid", header.length), -1);
});

test("cookie header: cookieValueAt reads up to the next ';', without the spaces and tabs around it or one pair of double quotes", () => {
  for (
    const [header, value] of [
      ["sid=abc; b=2", "abc"],
      ["sid= \tabc\t ;b=2", "abc"],
      ["sid=a b", "a b"],
      ["sid=a=b", "a=b"],
      ["sid=  ; b=2", ""],
      ["sid=", ""],
      ['sid= "abc" ;', "abc"],
      ['sid=""', ""],
      ['sid=""abc""', '"abc"'],
      ['sid=" abc "', " abc "],
      ['sid="', '"'],
      ['sid="abc', '"abc'],
      ['sid=abc"', 'abc"'],
    ]
  ) {
    assert.equal(cookieValueAt(header, 4), value, header);
  }
});

test("cookie header: encodeValue leaves a cookie-safe value without '%' as it is", () => {
  const plain = COOKIE_CHARACTERS.replace("%", "");
  assert.equal(encodeValue(plain), plain);
  assert.equal(encodeValue(""), "");
  assert.equal(encodeValue("100%"), "100%25");
});

test("cookie header: every UTF-16 code unit, lone surrogates included, encodes to cookie-octets and decodes back", () => {
  for (let code = 0; code <= 0xffff; code++) {
    const value = `a${String.fromCharCode(code)}0`;
    const encoded = encodeValue(value);
    assert.match(encoded, COOKIE_OCTETS, `U+${code.toString(16)}`);
    assert.equal(decodeValue(encoded), value, `U+${code.toString(16)}`);
  }
  for (
    const value of [
      "\ud83c\udf6a",
      "\udf6a\ud83c",
      "\ud800\ud800",
      "\ud800%uD800",
      "%u0041\udc00",
      "\ud800E9",
    ]
  ) {
    const encoded = encodeValue(value);
    assert.match(encoded, COOKIE_OCTETS, JSON.stringify(value));
    assert.equal(decodeValue(encoded), value, JSON.stringify(value));
  }
  assert.equal(encodeValue("x\ud800y"), "x%uD800y");
  assert.equal(encodeValue("\udc00"), "%uDC00");
});

test("cookie header: any string, mixing lone surrogates, pairs and text like an escape, encodes to cookie-octets and decodes back", () => {
  const unit = fc.oneof(
    fc.constantFrom("\ud800", "\udbff", "\udc00", "\udfff", "%", "u", "D", "8"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 40 }), (value) => {
      const encoded = encodeValue(value);
      assert.match(encoded, COOKIE_OCTETS);
      assert.equal(decodeValue(encoded), value);
    }),
  );
});

test("cookie header: what encodeValue writes for a well-formed string, decodeURIComponent reads", () => {
  fc.assert(
    fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (value) => {
      assert.equal(decodeURIComponent(encodeValue(value)), value);
    }),
  );
  assert.equal(encodeValue("a b+c"), "a%20b%2Bc");
});

test("cookie header: decodeValue reads escapes other code writes: lower-case hex and '+' as itself", () => {
  assert.equal(decodeValue("caf%c3%a9"), "caf\u00e9");
  assert.equal(decodeValue("a+b"), "a+b");
  assert.equal(decodeValue("dark%20mode"), "dark mode");
  assert.equal(decodeValue("%uD800caf%c3%a9"), "\ud800caf\u00e9");
});

test("cookie header: decodeValue gives null, never a throw, for a malformed, truncated or overlong escape", () => {
  const malformed = [
    "%",
    "100%",
    "%z",
    "%zz",
    "%4",
    "%E0%A4", // a UTF-8 sequence cut short
    "%C3", // the lead byte alone
    "%A9", // a continuation byte alone
    "%C0%80", // an overlong encoding of U+0000
    "%E0%80%AF", // an overlong encoding of "/"
    "%ED%A0%80", // a surrogate written in UTF-8
    "%F4%90%80%80", // beyond U+10FFFF
    "%FF",
    "%u",
    "%uD80",
    "%uD80G",
    "%ud800", // encodeValue writes upper-case hex only
  ];
  for (const escape of malformed) {
    for (const encoded of [escape, `%uD800${escape}`, `${escape}%uDC00`]) {
      assert.equal(decodeValue(encoded), null, encoded);
    }
  }
});

test("cookie header: formatAttributes writes the defaults Path=/, HttpOnly and SameSite=Lax", () => {
  assert.equal(
    formatAttributes("f", "sid", {}),
    "; Path=/; HttpOnly; SameSite=Lax",
  );
  assert.equal(
    formatAttributes("f", "sid", { secure: undefined, httpOnly: undefined }),
    "; Path=/; HttpOnly; SameSite=Lax",
  );
});

test("cookie header: formatAttributes writes each attribute once, in one order", () => {
  const all = {
    maxAge: 0,
    domain: ".example.com",
    path: "/app",
    expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
    httpOnly: true,
    secure: true,
    sameSite: "Strict" as const,
    partitioned: true,
  };
  assert.equal(
    formatAttributes("f", "sid", all),
    "; Max-Age=0; Domain=.example.com; Path=/app; " +
      "Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; Secure; " +
      "SameSite=Strict; Partitioned",
  );
  assert.equal(
    formatAttributes("f", "sid", { maxAge: -1, httpOnly: false }),
    "; Max-Age=-1; Path=/; SameSite=Lax",
  );
  assert.equal(
    formatAttributes("f", "sid", { secure: false, partitioned: true }),
    "; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned",
  );
});

test("cookie header: formatAttributes takes a host name, an IP address or punycode as the domain, nothing else", () => {
  for (const domain of ["localhost", "127.0.0.1", "xn--bcher-kva.de", ".a.b"]) {
    assert.match(formatAttributes("f", "sid", { domain }), /; Domain=/);
  }
  for (
    const domain of ["b\u00fccher.de", "a_b.com", ".", "a..b", "a.b/c", "a b"]
  ) {
    assert.throws(
      () => formatAttributes("f", "sid", { domain }),
      /^TypeError: f: option "domain" must be a host name/,
      domain,
    );
  }
});

test("cookie header: formatAttributes refuses a path with a control character, DEL or non-ASCII", () => {
  for (const path of ["/a\tb", "/a\x7fb", "/caf\u00e9", "/a\u0000"]) {
    assert.throws(
      () => formatAttributes("f", "sid", { path }),
      /^TypeError: f: option "path" must start with "\/"/,
      JSON.stringify(path),
    );
  }
});

test("cookie header: formatAttributes refusals start with the context, name the option and never print a string given", () => {
  const secret = "the-session-id-that-must-not-leak";
  const refusals: [Record<string, unknown>, RegExp][] = [
    [{ maxAge: secret }, /^RangeError: ctx: option "maxAge" .*got a string/],
    [{ maxAge: 1.5 }, /^RangeError: ctx: option "maxAge" .*got 1\.5\./],
    [
      { domain: `${secret}:443` },
      /^TypeError: ctx: option "domain" .*got a string/,
    ],
    [{ path: secret }, /^TypeError: ctx: option "path" .*got a string/],
    [{ expires: secret }, /^TypeError: ctx: option "expires" .*got a string/],
    [
      { expires: new Date(Date.UTC(10000, 0)) },
      /^RangeError: ctx: option "expires" .*year 10000/,
    ],
    [{ sameSite: secret }, /^TypeError: ctx: option "sameSite" .*got a string/],
    [{ sameSite: "lax" }, /^TypeError: ctx: option "sameSite" must be/],
    [{ sameSite: "None" }, /^TypeError: ctx: option "sameSite" is "None"/],
    [{ secure: secret }, /^TypeError: ctx: option "secure" .*got a string/],
    [{ httpOnly: 0 }, /^TypeError: ctx: option "httpOnly" .*got 0\./],
    [{ partitioned: null }, /^TypeError: ctx: option "partitioned" .*null/],
  ];
  for (const [attributes, expected] of refusals) {
    assert.throws(
      () => formatAttributes("ctx", "sid", attributes as CookieAttributes),
      (error: Error) => {
        assert.match(String(error), expected);
        assert.ok(!error.message.includes(secret));
        return true;
      },
      JSON.stringify(attributes),
    );
  }
});

test("cookie header: formatAttributes applies the __Host- and __Secure- rules to the name's prefix in any case, and only to a prefix", () => {
  const host = /^TypeError: f: a cookie named "__Host-\.\.\." must have/;
  const secure = /^TypeError: f: a cookie named "__Secure-\.\.\." must have/;
  assert.throws(() => formatAttributes("f", "__HOST-sid", {}), host);
  assert.throws(
    () => formatAttributes("f", "__host-", { secure: true, path: "/a" }),
    host,
  );
  assert.throws(() => formatAttributes("f", "__SECURE-sid", {}), secure);
  assert.equal(
    formatAttributes("f", "__Host-sid", { partitioned: true }),
    "; Path=/; HttpOnly; Secure; SameSite=Lax; Partitioned",
  );
  assert.match(
    formatAttributes("f", "__Secure-sid", { secure: true, domain: "a.b" }),
    /; Domain=a\.b; Path=\/;/,
  );
  for (const name of ["x__Host-sid", "__Host", "_Secure-sid", "__Secure"]) {
    assert.equal(
      formatAttributes("f", name, { path: "/a" }),
      "; Path=/a; HttpOnly; SameSite=Lax",
    );
  }
});

test("cookie header: checkBoolean takes true, false and undefined, and refuses anything else naming the option", () => {
  for (const value of [true, false, undefined]) {
    checkBoolean("ctx", "secure", value);
  }
  for (
    const [value, got] of [
      ["true", "a string of 4 characters"],
      [1, "1"],
      [null, "null"],
      [new Boolean(true), "an object \\(Boolean\\)"],
    ] as const
  ) {
    assert.throws(
      () => checkBoolean("ctx", "secure", value),
      new RegExp(
        `^TypeError: ctx: option "secure" must be true or false, got ${got}\\.$`,
      ),
    );
  }
});
