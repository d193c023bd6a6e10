import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { CookieJar } from "tough-cookie";
import { type Cookie, type CookieOptions, createCookie } from "./cookie.ts";
import { stringWork } from "./testing/string_work.ts";

const SECRET = "first secret, at least 32 bytes long!!";
const OLD_SECRET = "an older secret, also 32 bytes or more";
const SESSION_ID = "4fOvxkPMd2yLr_7QXp0s3GhJcNVz9aWb";
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/** The `name=value` pair of a Set-Cookie header, as a browser sends it back. */
function pairOf(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf(";"));
}

/** `pair` with one character of its signature or ciphertext changed. */
function tamper(pair: string): string {
  const at = pair.length - 5;
  return pair.slice(0, at) + (pair[at] === "A" ? "B" : "A") +
    pair.slice(at + 1);
}

function valueOf(setCookie: string): string {
  const pair = pairOf(setCookie);
  return pair.slice(pair.indexOf("=") + 1);
}

function cookies(options: CookieOptions = {}) {
  return {
    plain: createCookie("sid", options),
    signed: createCookie("sid", { ...options, secrets: [SECRET] }),
    encrypted: createCookie("sid", {
      ...options,
      secrets: [SECRET],
      encrypt: true,
    }),
  };
}

describe("cookie parse", () => {
  const { plain, signed } = cookies();

  it("cookie: returns null when the header or the cookie is missing", async () => {
    assert.equal(await plain.parse(null), null);
    assert.equal(await plain.parse(""), null);
    assert.equal(await plain.parse("other=1; sids=2; si=3"), null);
    assert.equal(await signed.parse(null), null);
  });

  it("cookie: returns null for a header that is not a string", async () => {
    for (const header of [undefined, 42, {}, ["sid=1"]]) {
      assert.equal(await plain.parse(header as unknown as string), null);
    }
  });

  it("cookie: picks its cookie out of a header with many cookies", async () => {
    assert.equal(await plain.parse("a=1; sid=abc; b=2"), "abc");
    assert.equal(await plain.parse("sid=abc; a=1"), "abc");
    assert.equal(await plain.parse("a=1; b=2; sid=abc"), "abc");
  });

  it("cookie: matches whole names only, not names that contain its name", async () => {
    assert.equal(await plain.parse("xsid=1; sidx=2; sid=3"), "3");
    assert.equal(await plain.parse("a=sid=1; sid=2"), "2");
    assert.equal(await plain.parse("a=x sid=1; sid=2"), "2");
    assert.equal(await plain.parse("SID=1; sid=2"), "2");
  });

  it("cookie: unsigned, reads the first of duplicate cookies even when it is malformed", async () => {
    assert.equal(await plain.parse("sid=first; sid=second"), "first");
    assert.equal(await plain.parse("sid=a b; sid=second"), null);
  });

  for (const mode of ["signed", "encrypted"] as const) {
    const cookie = cookies()[mode];

    it(`cookie: ${mode}, reads the first of duplicate cookies that verifies`, async () => {
      const good = pairOf(await cookie.serialize("good"));
      const other = pairOf(await cookie.serialize("other"));
      assert.equal(await cookie.parse(`${good}; sid=second`), "good");
      assert.equal(await cookie.parse(`${good}; ${other}`), "good");
    });

    it(`cookie: ${mode}, a cookie planted under its name does not hide the valid one (cookie tossing)`, async () => {
      const valid = pairOf(await cookie.serialize(SESSION_ID));
      const forged = tamper(valid);
      // What a browser sends once a sibling subdomain has set
      // `sid=planted; Domain=example.test`: the planted cookie first.
      for (
        const planted of [
          "sid=planted",
          "sid=",
          "sid=a b",
          'sid="x',
          forged,
          pairOf(await createCookie("sid").serialize("x")),
          pairOf(
            await createCookie("sid", {
              secrets: [OLD_SECRET],
              encrypt: cookie.encrypted,
            }).serialize("other server"),
          ),
        ]
      ) {
        assert.equal(
          await cookie.parse(`${planted}; ${valid}`),
          SESSION_ID,
          planted,
        );
        assert.equal(
          await cookie.parse(`${planted}; ${planted}; a=1; ${valid}; b=2`),
          SESSION_ID,
          planted,
        );
      }
      assert.equal(await cookie.parse("sid=planted; sid=x; sid=y"), null);
    });
  }

  it("cookie: removes one pair of double quotes around a value", async () => {
    assert.equal(await plain.parse('sid="abc"'), "abc");
    assert.equal(await plain.parse('a=1; sid="abc" ; b=2'), "abc");
    assert.equal(await plain.parse('sid=""'), "");
    const value = valueOf(await signed.serialize("quoted"));
    assert.equal(await signed.parse(`sid="${value}"`), "quoted");
  });

  it("cookie: ignores spaces and tabs around names, values and separators", async () => {
    assert.equal(await plain.parse("  sid  =  abc  "), "abc");
    assert.equal(await plain.parse("a=1;sid=abc;b=2"), "abc");
    assert.equal(await plain.parse("a=1 ;\tsid\t=\tabc\t; b=2"), "abc");
    assert.equal(await plain.parse(";;; sid=abc;;"), "abc");
    assert.equal(await plain.parse("sid=; a=1"), "");
  });

  it("cookie: is not confused by non-ASCII bytes in other cookies", async () => {
    // Headers hand non-ASCII bytes over as one character per byte.
    const utf8Bytes = "caf\u00c3\u00a9";
    assert.equal(await plain.parse(`x=${utf8Bytes}; sid=abc`), "abc");
    assert.equal(await plain.parse(`\u00ff\u00fe=1; sid=abc`), "abc");
    const good = pairOf(await signed.serialize("v"));
    assert.equal(await signed.parse(`x=${utf8Bytes}; ${good}`), "v");
  });

  it("cookie: returns null for a value it could not have written", async () => {
    for (
      const header of [
        "sid",
        "sid=a b",
        "sid=caf\u00c3\u00a9",
        "sid=a\\b",
        'sid="abc',
        "sid=a,b",
        "sid=100%",
        "sid=%zz",
        "sid=%E0%A4",
        "sid=%uD80",
      ]
    ) {
      assert.equal(await plain.parse(header), null, header);
    }
  });

  it("cookie: reads a cookie value set by other code when it is cookie-safe", async () => {
    assert.equal(await plain.parse("sid=a=b"), "a=b");
    assert.equal(await plain.parse("sid=dark%20mode"), "dark mode");
  });

  it("cookie: finds its cookie in a 64 kB header and a header with 1,000 cookies", async () => {
    const value = pairOf(await signed.serialize(SESSION_ID));
    for (const [label, header] of Object.entries(largeHeaders(value, 1))) {
      assert.equal(await signed.parse(header), SESSION_ID, label);
    }
    const missing = `${"sid".repeat(21846)}; ${"x=1; ".repeat(1000)}`;
    assert.equal(await signed.parse(missing), null);
  });

  it("cookie: parses a header in work proportional to its length, never quadratic", async () => {
    const value = pairOf(await signed.serialize(SESSION_ID));
    const small = largeHeaders(value, 1);
    const large = largeHeaders(value, 4);
    for (const label of Object.keys(small)) {
      const smallWork = await stringWork(() => signed.parse(small[label]));
      const largeWork = await stringWork(() => signed.parse(large[label]));
      // Four times the header: about four times the work when linear,
      // sixteen when quadratic.
      assert.ok(
        largeWork <= 6 * smallWork,
        `${label}: ${smallWork} characters examined for one size, ` +
          `${largeWork} for four times that size`,
      );
    }
  });
});

/**
 * Headers that have made cookie parsers slow, `scale` times 64 kB or 1,000
 * cookies long, each holding `pair` (its cookie) once.
 */
function largeHeaders(pair: string, scale: number): Record<string, string> {
  const manyCookies = Array.from(
    { length: 1000 * scale },
    (_, i) => `cookie${i}=${"v".repeat(i % 50)}`,
  );
  const half = manyCookies.length / 2;
  return {
    "1,000 cookies, its cookie last": [...manyCookies, pair].join("; "),
    "1,000 cookies, its cookie in the middle": [
      ...manyCookies.slice(0, half),
      pair,
      ...manyCookies.slice(half),
    ].join("; "),
    "64 kB cookie before it": `big=${"x".repeat(65536 * scale)}; ${pair}`,
    "64 kB of its name without '='": `${"sid".repeat(21846 * scale)}; ${pair}`,
    "64 kB of ' sid' pairs": `${" sid ".repeat(13108 * scale)}=1; ${pair}`,
    "64 kB of separators": `${";".repeat(65536 * scale)}${pair}`,
    "64 kB of cookies planted under its name": `${
      "sid=planted; ".repeat(4681 * scale)
    }${pair}`,
  };
}

describe("cookie signing", () => {
  it("cookie: signs the value and reads it back", async () => {
    const { signed } = cookies();
    assert.equal(signed.signed, true);
    assert.equal(signed.encrypted, false);
    const setCookie = await signed.serialize(SESSION_ID);
    assert.match(valueOf(setCookie), /^[\w-]{32}\.[\w-]{43}$/);
    assert.equal(await signed.parse(pairOf(setCookie)), SESSION_ID);
  });

  it("cookie: rejects an unsigned value and a changed signature", async () => {
    const { signed } = cookies();
    const value = valueOf(await signed.serialize(SESSION_ID));
    assert.equal(await signed.parse(`sid=${SESSION_ID}`), null);
    const dot = value.lastIndexOf(".");
    assert.equal(await signed.parse(`sid=other${value.slice(dot)}`), null);
    assert.equal(await signed.parse(`sid=${value.slice(0, dot)}.`), null);
    const flipped = value.slice(0, -1) + (value.endsWith("A") ? "B" : "A");
    assert.equal(await signed.parse(`sid=${flipped}`), null);
  });

  it("cookie: rejects every changed character of a long value, which takes the native HMAC path", async () => {
    // Values past a per-runtime length are signed by createHmac instead of
    // the JavaScript HMAC; 3,000 characters is past every cut-off.
    const { signed } = cookies();
    const long = "x".repeat(1500) + SESSION_ID.repeat(47);
    const value = valueOf(await signed.serialize(long));
    assert.equal(await signed.parse(`sid=${value}`), long);
    let accepted = 0;
    for (let i = 0; i < value.length; i += 7) {
      const changed = value.slice(0, i) +
        (value[i] === "A" ? "B" : "A") + value.slice(i + 1);
      if (await signed.parse(`sid=${changed}`) !== null) accepted++;
    }
    assert.equal(accepted, 0);
  });

  it("cookie: rejects a second base64url spelling of the same signature", async () => {
    // The last of 43 base64url characters carries 4 bits: the next
    // character decodes to the same bytes, and must still be refused.
    const { signed } = cookies();
    for (let i = 0; i < 16; i++) {
      const value = valueOf(await signed.serialize(`v${i}`));
      const last = value.charCodeAt(value.length - 1);
      const sibling = value.slice(0, -1) + String.fromCharCode(last + 1);
      assert.equal(await signed.parse(`sid=${sibling}`), null);
    }
  });

  it("cookie: rejects a signed value moved to a cookie with another name", async () => {
    const sid = createCookie("sid", { secrets: [SECRET] });
    const other = createCookie("other", { secrets: [SECRET] });
    const value = valueOf(await sid.serialize(SESSION_ID));
    assert.equal(await other.parse(`other=${value}`), null);
  });

  it("cookie: reads cookies signed with an older secret and signs with the first", async () => {
    const before = createCookie("sid", { secrets: [OLD_SECRET] });
    const rotated = createCookie("sid", { secrets: [SECRET, OLD_SECRET] });
    const newOnly = createCookie("sid", { secrets: [SECRET] });
    const oldCookie = pairOf(await before.serialize(SESSION_ID));
    assert.equal(await rotated.parse(oldCookie), SESSION_ID);

    const newCookie = pairOf(await rotated.serialize(SESSION_ID));
    assert.equal(await newOnly.parse(newCookie), SESSION_ID);
    assert.equal(await before.parse(newCookie), null);
  });

  it("cookie: rejects a cookie signed with a secret removed from the list", async () => {
    const before = createCookie("sid", { secrets: [SECRET, OLD_SECRET] });
    const retired = createCookie("sid", { secrets: [OLD_SECRET] });
    const after = createCookie("sid", { secrets: [SECRET] });
    const oldCookie = pairOf(await retired.serialize(SESSION_ID));
    assert.equal(await before.parse(oldCookie), SESSION_ID);
    assert.equal(await after.parse(oldCookie), null);
  });

  it("cookie: refuses secrets shorter than 32 bytes without echoing them", () => {
    const short = "only 31 bytes long, not enough!";
    assert.equal(new TextEncoder().encode(short).length, 31);
    assert.throws(
      () => createCookie("sid", { secrets: [SECRET, short] }),
      (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /secrets\[1\] is 31 bytes/);
        assert.match(error.message, /at least 32 bytes/);
        assert.ok(!error.message.includes(short));
        return true;
      },
    );
    // 16 two-byte characters are 32 bytes.
    assert.equal(
      createCookie("sid", { secrets: ["é".repeat(16)] }).signed,
      true,
    );
  });

  it("cookie: refuses a secrets list with a hole, an empty secret or one secret twice, naming the index and never the secret", () => {
    const third = "a third secret, also 32 bytes or longer";
    // deno-lint-ignore no-sparse-arrays
    const cases: [string[], RegExp][] = [
      [[, SECRET] as string[], /option "secrets" has a hole at secrets\[0\]/],
      [
        [SECRET, , OLD_SECRET] as string[],
        /option "secrets" has a hole at secrets\[1\]/,
      ],
      [[SECRET, ""], /secrets\[1\] is empty; each secret must be at least 32/],
      [
        [SECRET, OLD_SECRET, SECRET],
        /option "secrets" holds the same secret twice, at secrets\[0\] and secrets\[2\]\. Remove the second one/,
      ],
      [
        [third, OLD_SECRET, OLD_SECRET],
        /at secrets\[1\] and secrets\[2\]/,
      ],
    ];
    for (const [secrets, message] of cases) {
      for (const encrypt of [false, true]) {
        assert.throws(
          () => createCookie("sid", { secrets, encrypt }),
          (error: Error) => {
            assert.ok(
              error instanceof TypeError || error instanceof RangeError,
            );
            assert.match(error.message, /^createCookie\("sid"\): /);
            assert.match(error.message, message);
            for (const secret of [SECRET, OLD_SECRET, third]) {
              assert.ok(!error.message.includes(secret));
            }
            return true;
          },
        );
      }
    }
  });

  it("cookie: refuses an empty secrets list and secrets that are not strings", () => {
    assert.throws(
      () => createCookie("sid", { secrets: [] }),
      /option "secrets" must be a non-empty array/,
    );
    assert.throws(
      () => createCookie("sid", { secrets: SECRET as unknown as string[] }),
      /option "secrets" must be a non-empty array of strings, got a string/,
    );
    assert.throws(
      () => createCookie("sid", { secrets: [42 as unknown as string] }),
      /option "secrets" must hold strings, but secrets\[0\] is 42/,
    );
  });

  it("cookie: is unsigned without secrets", async () => {
    const { plain } = cookies();
    assert.equal(plain.signed, false);
    assert.equal(
      await plain.serialize("abc"),
      "sid=abc; Path=/; HttpOnly; SameSite=Lax",
    );
  });
});

describe("cookie encryption", () => {
  const { signed, encrypted } = cookies();
  const secretText = "user 42 is an admin; café ☕";

  it("cookie: encrypts the value and decrypts it back", async () => {
    assert.equal(encrypted.signed, true);
    assert.equal(encrypted.encrypted, true);
    const setCookie = await encrypted.serialize(secretText);
    assert.equal(await encrypted.parse(pairOf(setCookie)), secretText);
    assert.match(valueOf(setCookie), /^[\w-]+$/);
  });

  it("cookie: does not reveal the plaintext in the cookie", async () => {
    const setCookie = await encrypted.serialize(SESSION_ID);
    assert.ok(!setCookie.includes(SESSION_ID));
    assert.ok(!setCookie.includes(SESSION_ID.slice(0, 8)));
    const value = valueOf(setCookie);
    const decoded = Buffer.from(value, "base64url").toString("latin1");
    assert.ok(!decoded.includes(SESSION_ID.slice(0, 8)));
    const unicode = await encrypted.serialize(secretText);
    assert.ok(!unicode.includes("admin"));
    assert.ok(!unicode.includes(encodeURIComponent("café")));
  });

  it("cookie: writes a different cookie each time for the same value", async () => {
    const first = await encrypted.serialize(SESSION_ID);
    const second = await encrypted.serialize(SESSION_ID);
    assert.notEqual(first, second);
    assert.equal(await encrypted.parse(pairOf(first)), SESSION_ID);
    assert.equal(await encrypted.parse(pairOf(second)), SESSION_ID);
  });

  it("cookie: does not accept signed cookies, nor signed cookies encrypted ones", async () => {
    const signedPair = pairOf(await signed.serialize(SESSION_ID));
    const encryptedPair = pairOf(await encrypted.serialize(SESSION_ID));
    assert.equal(await encrypted.parse(signedPair), null);
    assert.equal(await encrypted.parse(`sid=${SESSION_ID}`), null);
    assert.equal(await signed.parse(encryptedPair), null);
  });

  it("cookie: rejects an encrypted value moved to a cookie with another name", async () => {
    const other = createCookie("other", { secrets: [SECRET], encrypt: true });
    const value = valueOf(await encrypted.serialize(SESSION_ID));
    assert.equal(await other.parse(`other=${value}`), null);
  });

  it("cookie: decrypts with older secrets and encrypts with the first", async () => {
    const before = createCookie("sid", {
      secrets: [OLD_SECRET],
      encrypt: true,
    });
    const rotated = createCookie("sid", {
      secrets: [SECRET, OLD_SECRET],
      encrypt: true,
    });
    const oldCookie = pairOf(await before.serialize(SESSION_ID));
    assert.equal(await rotated.parse(oldCookie), SESSION_ID);
    const newCookie = pairOf(await rotated.serialize(SESSION_ID));
    assert.equal(await encrypted.parse(newCookie), SESSION_ID);
    assert.equal(await before.parse(newCookie), null);
    assert.equal(await encrypted.parse(oldCookie), null);
  });

  it("cookie: returns null for values too short or not base64url", async () => {
    for (
      const value of ["", "AAAA", "A".repeat(37), "!!!!", "A".repeat(40) + "="]
    ) {
      assert.equal(await encrypted.parse(`sid=${value}`), null, value);
    }
  });

  it("cookie: needs secrets", () => {
    assert.throws(
      () => createCookie("sid", { encrypt: true }),
      /option "encrypt" needs option "secrets"/,
    );
  });
});

describe("cookie serialize", () => {
  const { plain, signed } = cookies();

  it("cookie: defaults to Path=/, HttpOnly and SameSite=Lax", async () => {
    assert.equal(
      await plain.serialize("abc"),
      "sid=abc; Path=/; HttpOnly; SameSite=Lax",
    );
  });

  it("cookie: writes every attribute", async () => {
    const cookie = createCookie("sid", {
      domain: "example.com",
      path: "/app",
      maxAge: 3600,
      expires: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)),
      httpOnly: false,
      secure: true,
      sameSite: "None",
      partitioned: true,
    });
    assert.equal(
      await cookie.serialize("abc"),
      "sid=abc; Max-Age=3600; Domain=example.com; Path=/app; " +
        "Expires=Wed, 02 Jan 2030 03:04:05 GMT; Secure; SameSite=None; " +
        "Partitioned",
    );
  });

  it("cookie: adds Secure to a partitioned cookie", async () => {
    const cookie = createCookie("sid", { partitioned: true, sameSite: "None" });
    assert.equal(
      await cookie.serialize("abc"),
      "sid=abc; Path=/; HttpOnly; Secure; SameSite=None; Partitioned",
    );
  });

  it("cookie: its methods work when taken off the cookie", async () => {
    const { parse, serialize, serializeAll } = createCookie("sid", {
      secrets: [SECRET],
    });
    const [setCookie] = await serializeAll(SESSION_ID, null);
    assert.equal(await parse(pairOf(setCookie)), SESSION_ID);
    assert.equal(await parse(pairOf(await serialize(SESSION_ID))), SESSION_ID);
  });

  it("cookie: applies overrides to one header only, e.g. to clear the cookie", async () => {
    const cookie = createCookie("sid", { secrets: [SECRET], maxAge: 60 });
    const cleared = await cookie.serialize("", { maxAge: 0 });
    assert.match(
      cleared,
      /^sid=\.[\w-]{43}; Max-Age=0; Path=\/; HttpOnly; SameSite=Lax$/,
    );
    assert.equal(await cookie.parse(pairOf(cleared)), "");
    assert.match(await cookie.serialize("x"), /; Max-Age=60;/);
    assert.match(
      await cookie.serialize("x", { sameSite: "Strict", path: "/a" }),
      /; Max-Age=60; Path=\/a; HttpOnly; SameSite=Strict$/,
    );
  });

  it("cookie: encodes characters a cookie cannot hold, and reads them back", async () => {
    const value = 'a b;c,d"e\\f%g\u00e9\u2603\ud83c\udf6a\ud800';
    for (const cookie of [plain, signed]) {
      const setCookie = await cookie.serialize(value);
      assert.match(valueOf(setCookie), COOKIE_OCTETS);
      assert.equal(await cookie.parse(pairOf(setCookie)), value);
    }
    assert.equal(
      await plain.serialize("café 50%"),
      "sid=caf%C3%A9%2050%25; Path=/; HttpOnly; SameSite=Lax",
    );
  });

  it("cookie: rejects a name that is not an RFC 6265 token", () => {
    for (
      const name of ["", "se ssion", "a;b", "a=b", "a,b", "é", 'a"b', "a\tb"]
    ) {
      assert.throws(
        () => createCookie(name),
        (error: Error) =>
          error instanceof TypeError &&
          error.message.includes("cookie name") &&
          error.message.includes(JSON.stringify(name)),
        name,
      );
    }
    assert.throws(
      () => createCookie(42 as unknown as string),
      /cookie name 42/,
    );
  });

  it("cookie: rejects a value that is not a string", async () => {
    for (const value of [undefined, null, 42, { id: 1 }]) {
      await assert.rejects(
        plain.serialize(value as unknown as string),
        /serialize takes the value as a string, got (undefined|null|42|an object \(Object\))\. Convert it first/,
      );
    }
  });

  it("cookie: rejects SameSite=None without Secure", async () => {
    const message = /option "sameSite" is "None" but "secure" is not set/;
    assert.throws(() => createCookie("sid", { sameSite: "None" }), message);
    await assert.rejects(plain.serialize("a", { sameSite: "None" }), message);
    const secure = createCookie("sid", { sameSite: "None", secure: true });
    await assert.rejects(secure.serialize("a", { secure: false }), message);
    assert.match(await secure.serialize("a"), /; Secure; SameSite=None$/);
  });

  it("cookie: rejects a sameSite that is not Lax, Strict or None", async () => {
    await assert.rejects(
      plain.serialize("a", { sameSite: "lenient" as "Lax" }),
      /option "sameSite" must be "Lax", "Strict" or "None", got a string of 7 characters/,
    );
  });

  it("cookie: refuses encrypt, secure, httpOnly and partitioned options that are not booleans, rather than reading them as false", async () => {
    // As read from an environment variable: "true" must not quietly give
    // a cookie that is not encrypted, or not Secure.
    assert.throws(
      () =>
        createCookie("sid", {
          secrets: [SECRET],
          encrypt: "true" as unknown as boolean,
        }),
      /option "encrypt" must be true or false, got a string of 4 characters/,
    );
    for (const option of ["secure", "httpOnly", "partitioned"]) {
      for (const value of ["true", 1]) {
        const pattern = new RegExp(
          `option "${option}" must be true or false, got ${
            value === 1 ? "1" : "a string of 4 characters"
          }`,
        );
        assert.throws(() => createCookie("sid", { [option]: value }), pattern);
        await assert.rejects(
          plain.serialize("a", { [option]: value }),
          pattern,
        );
      }
    }
  });

  it("cookie: rejects a maxAge that is not a whole number", async () => {
    for (const maxAge of [1.5, NaN, Infinity, -0.5, 2 ** 60]) {
      assert.throws(
        () => createCookie("sid", { maxAge }),
        new RegExp(
          `option "maxAge" must be a whole number of seconds, got ${maxAge}`,
        ),
      );
      await assert.rejects(plain.serialize("a", { maxAge }), /"maxAge"/);
    }
    await assert.rejects(
      plain.serialize("a", { maxAge: "60" as unknown as number }),
      /option "maxAge" must be a whole number of seconds, got a string of 2 characters\. Round it/,
    );
  });

  it("cookie: rejects an invalid domain, path or expires", async () => {
    for (
      const domain of [
        "",
        "example.com:8080",
        "https://example.com",
        "a;b",
        "a b",
        "a..b",
      ]
    ) {
      await assert.rejects(
        plain.serialize("a", { domain }),
        new RegExp(
          `option "domain" must be a host name .* got a string of ${domain.length} characters?\\. Leave out the scheme`,
        ),
      );
    }
    for (const path of ["", "admin", "/a;b", "/a\nb"]) {
      await assert.rejects(
        plain.serialize("a", { path }),
        /option "path" must start with "\/" and hold no ";" or control characters/,
      );
    }
    await assert.rejects(
      plain.serialize("a", { expires: new Date(NaN) }),
      /option "expires" must be a valid Date, got an invalid Date/,
    );
    await assert.rejects(
      plain.serialize("a", { expires: "tomorrow" as unknown as Date }),
      /option "expires" must be a valid Date, got a string of 8 characters\. Or use "maxAge"/,
    );
  });

  it("cookie: rejects an expires date outside the years 1601 to 9999, which an Expires attribute cannot carry", async () => {
    // The latest Date, a common way to write "never expires", would be sent
    // as year 275760, which RFC 6265 date parsing refuses: the attribute
    // would be ignored and the cookie end with the browser session.
    for (const expires of [new Date(8.64e15), new Date("+010000-01-01")]) {
      await assert.rejects(
        plain.serialize("a", { expires }),
        /option "expires" must be a date from year 1601 to 9999, got a Date .*maxAge/,
      );
    }
    await assert.rejects(
      plain.serialize("a", { expires: new Date("1600-12-31T23:59:59Z") }),
      /option "expires" must be a date from year 1601 to 9999/,
    );
    assert.match(
      await plain.serialize("a", { expires: new Date("9999-12-31T23:59:59Z") }),
      /; Expires=Fri, 31 Dec 9999 23:59:59 GMT;/,
    );
    assert.match(
      await plain.serialize("a", { expires: new Date("1601-01-01T00:00:00Z") }),
      /; Expires=Mon, 01 Jan 1601 00:00:00 GMT;/,
    );
  });

  it("cookie: enforces the __Host- prefix rules", async () => {
    const valid = { secure: true };
    const cookie = createCookie("__Host-sid", valid);
    assert.equal(
      await cookie.serialize("a"),
      "__Host-sid=a; Path=/; HttpOnly; Secure; SameSite=Lax",
    );
    const message =
      /a cookie named "__Host-\.\.\." must have "secure": true, "path": "\/" and no "domain"/;
    assert.throws(() => createCookie("__Host-sid"), message);
    assert.throws(() => createCookie("__host-sid"), message);
    assert.throws(
      () => createCookie("__Host-sid", { ...valid, domain: "example.com" }),
      message,
    );
    assert.throws(
      () => createCookie("__Host-sid", { ...valid, path: "/app" }),
      message,
    );
    await assert.rejects(cookie.serialize("a", { path: "/app" }), message);
    await assert.rejects(
      cookie.serialize("a", { domain: "example.com" }),
      message,
    );
    await assert.rejects(cookie.serialize("a", { secure: false }), message);
  });

  it("cookie: enforces the __Secure- prefix rule", async () => {
    assert.throws(
      () => createCookie("__Secure-sid"),
      /a cookie named "__Secure-\.\.\." must have "secure": true/,
    );
    const cookie = createCookie("__Secure-sid", { secure: true, path: "/app" });
    assert.match(
      await cookie.serialize("a"),
      /; Path=\/app; HttpOnly; Secure;/,
    );
  });

  it("cookie: rejects a header over 4096 bytes, saying its size, without the value", async () => {
    const attributes = "; Path=/; HttpOnly; SameSite=Lax".length;
    const fits = "v".repeat(4096 - "sid=".length - attributes);
    assert.equal((await plain.serialize(fits)).length, 4096);
    const tooBig = fits + "w";
    await assert.rejects(plain.serialize(tooBig), (error: Error) => {
      assert.ok(error instanceof RangeError);
      assert.match(error.message, /would be 4097 bytes, over the 4096 bytes/);
      // Named by what runs everywhere: the filesystem store refuses to run
      // on Cloudflare Workers, where cookies are most often the only store.
      assert.match(
        error.message,
        /server-side store \(Redis, SQLite, PostgreSQL, Deno KV, or one of your own through createRecordSessionStorage\)/,
      );
      assert.doesNotMatch(error.message, /createFsSessionStorage/);
      assert.ok(!error.message.includes("vvvvvvvv"));
      return true;
    });
    // Encoding counts: 1,000 snowmen are 9,000 bytes once percent-encoded.
    await assert.rejects(plain.serialize("\u2603".repeat(1000)), /9036 bytes/);
  });

  it("cookie: never puts the value in an error message", async () => {
    const secretValue = "SESSION-ID-that-must-not-leak";
    const failures = [
      plain.serialize(secretValue + "x".repeat(5000)),
      plain.serialize(secretValue, { sameSite: "None" }),
      plain.serialize(secretValue, { maxAge: 0.5 }),
      plain.serialize(secretValue, { domain: "a b" }),
    ];
    for (const failure of failures) {
      await assert.rejects(failure, (error: Error) => {
        assert.ok(!error.message.includes(secretValue));
        return true;
      });
    }
  });
});

describe("cookie interop with tough-cookie", () => {
  const url = "https://app.example.com/app/page";

  async function store(setCookie: string, at = url) {
    const jar = new CookieJar(undefined, { prefixSecurity: "strict" });
    await jar.setCookie(setCookie, at);
    return jar;
  }

  it("cookie: keeps every attribute of a signed cookie", async () => {
    const cookie = createCookie("sid", {
      secrets: [SECRET],
      domain: "example.com",
      path: "/app",
      maxAge: 3600,
      secure: true,
      sameSite: "Strict",
    });
    const before = Date.now();
    const jar = await store(await cookie.serialize(SESSION_ID));
    const [stored, ...rest] = await jar.getCookies(url);
    assert.equal(rest.length, 0);
    assert.equal(stored.key, "sid");
    assert.equal(stored.domain, "example.com");
    assert.equal(stored.path, "/app");
    assert.equal(stored.httpOnly, true);
    assert.equal(stored.secure, true);
    assert.equal(stored.sameSite, "strict");
    const expiry = stored.expiryTime() as number;
    assert.ok(expiry >= before + 3600_000 && expiry <= Date.now() + 3600_000);

    const header = await jar.getCookieString("https://www.example.com/app");
    assert.equal(await cookie.parse(header), SESSION_ID);
    assert.equal(await jar.getCookieString("http://app.example.com/app"), "");
    assert.equal(await jar.getCookieString("https://app.example.com/"), "");
  });

  it("cookie: keeps Expires, SameSite=None and an encrypted value", async () => {
    const expires = new Date(Date.UTC(2040, 5, 1, 12, 0, 0));
    const cookie = createCookie("sid", {
      secrets: [SECRET],
      encrypt: true,
      expires,
      httpOnly: false,
      secure: true,
      sameSite: "None",
    });
    const jar = await store(await cookie.serialize("café ☕"));
    const [stored] = await jar.getCookies(url);
    assert.equal(stored.expiryTime(), expires.getTime());
    assert.equal(stored.httpOnly, false);
    assert.equal(stored.sameSite, "none");
    assert.equal(stored.path, "/");
    assert.equal(stored.hostOnly, true);
    assert.equal(await cookie.parse(await jar.getCookieString(url)), "café ☕");
  });

  it("cookie: is accepted with a __Host- prefix under strict prefix checks", async () => {
    const cookie = createCookie("__Host-sid", {
      secrets: [SECRET],
      secure: true,
    });
    const jar = await store(await cookie.serialize(SESSION_ID));
    const header = await jar.getCookieString(url);
    assert.match(header, /^__Host-sid=/);
    assert.equal(await cookie.parse(header), SESSION_ID);
  });

  it("cookie: removes the cookie from the jar when cleared with maxAge 0", async () => {
    const cookie = createCookie("sid", { secrets: [SECRET] });
    const jar = await store(
      await cookie.serialize(SESSION_ID),
      "http://localhost/",
    );
    assert.notEqual(await jar.getCookieString("http://localhost/"), "");
    await jar.setCookie(
      await cookie.serialize("", { maxAge: 0 }),
      "http://localhost/",
    );
    assert.equal(await jar.getCookieString("http://localhost/"), "");
  });

  it("cookie: round-trips encoded values through the jar", async () => {
    const { plain } = cookies();
    const value = 'a b;c,d"e\\f%g\u00e9\u2603';
    const jar = await store(await plain.serialize(value), "http://localhost/");
    const header = await jar.getCookieString("http://localhost/");
    assert.equal(await plain.parse(header), value);
  });
});

// Any UTF-16 string, lone surrogates included, with extra weight on the
// characters cookies and their encoding treat specially.
const anyString = fc.string({
  unit: fc.oneof(
    fc.constantFrom(" ", ";", ",", '"', "\\", "%", "=", ".", "\t", "\u0000"),
    fc.integer({ min: 0, max: 0xffff }).map((code) =>
      String.fromCharCode(code)
    ),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 200,
});

describe("cookie properties", () => {
  const all = cookies();

  for (const [kind, cookie] of Object.entries(all)) {
    it(`cookie: ${kind}: serialize then parse returns any string`, async () => {
      await fc.assert(
        fc.asyncProperty(anyString, async (value) => {
          const setCookie = await cookie.serialize(value);
          assert.match(valueOf(setCookie), COOKIE_OCTETS);
          assert.equal(await cookie.parse(pairOf(setCookie)), value);
          assert.equal(
            await cookie.parse(`a=1; ${pairOf(setCookie)}; b=2`),
            value,
          );
        }),
        { numRuns: 300 },
      );
    });
  }

  it("cookie: parse never throws on any header string", async () => {
    const fragment = fc.oneof(
      fc.constantFrom("sid", "=", ";", " ", "\t", '"', "%", "%u", "%E0", "."),
      anyString,
    );
    const header = fc.oneof(
      anyString,
      fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join("")),
    );
    const rotated = createCookie("sid", {
      secrets: [SECRET, OLD_SECRET],
      encrypt: true,
    });
    const parsers: Cookie[] = [...Object.values(all), rotated];
    await fc.assert(
      fc.asyncProperty(header, async (text) => {
        for (const cookie of parsers) {
          const parsed = await cookie.parse(text);
          assert.ok(parsed === null || typeof parsed === "string");
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("cookie: rejects every single-byte change, truncation and extension of signed and encrypted cookies", async () => {
    const rotatedSigned = createCookie("sid", {
      secrets: [OLD_SECRET, SECRET],
    });
    const rotatedEncrypted = createCookie("sid", {
      secrets: [OLD_SECRET, SECRET],
      encrypt: true,
    });
    let tried = 0;
    let accepted = 0;
    for (
      const [cookie, reader] of [
        [all.signed, all.signed],
        [all.encrypted, all.encrypted],
        [all.signed, rotatedSigned],
        [all.encrypted, rotatedEncrypted],
      ]
    ) {
      for (const original of [SESSION_ID, "", "café ☕"]) {
        const value = valueOf(await cookie.serialize(original));
        assert.equal(await reader.parse(`sid=${value}`), original);
        const variants: string[] = [];
        for (let i = 0; i < value.length; i++) {
          for (let byte = 0; byte < 256; byte++) {
            if (byte === value.charCodeAt(i)) continue;
            variants.push(
              value.slice(0, i) + String.fromCharCode(byte) +
                value.slice(i + 1),
            );
          }
        }
        for (let length = 0; length < value.length; length++) {
          variants.push(value.slice(0, length));
        }
        for (let byte = 0x21; byte < 0x7f; byte++) {
          variants.push(value + String.fromCharCode(byte));
          variants.push(value + "A" + String.fromCharCode(byte));
        }
        for (const variant of variants) {
          tried++;
          const parsed = await reader.parse(`sid=${variant}`);
          // A change that the header syntax ignores (trailing space, a
          // cut at ";") reads the original cookie: that is not tampering.
          if (parsed !== null && variant.trim().split(";")[0] !== value) {
            accepted++;
          }
        }
      }
    }
    console.log(
      `cookie tampering: ${tried} tampered cookies tried, ${accepted} accepted`,
    );
    assert.equal(accepted, 0);
    assert.ok(tried > 100_000);
  });
});
