import { test } from "node:test";
import assert from "node:assert/strict";
import { checkTableName, firstVersion } from "./_sql.ts";

test("sql: checkTableName returns a plain name as it is", () => {
  for (const table of ["sessions", "_", "App_Sessions_2", "Z9"]) {
    assert.equal(checkTableName("f", table), table);
  }
});

test("sql: checkTableName takes up to longest characters, 63 unless told", () => {
  assert.equal(checkTableName("f", "t".repeat(63)), "t".repeat(63));
  assert.throws(() => checkTableName("f", "t".repeat(64)), /at most 63/);
  assert.equal(checkTableName("f", "t".repeat(53), 53), "t".repeat(53));
  assert.throws(
    () => checkTableName("f", "t".repeat(54), 53),
    /at most 53 characters/,
  );
});

test("sql: checkTableName refuses a name that would need quoting: a leading digit, punctuation, spaces, quotes, non-ASCII, a line end", () => {
  for (
    const table of [
      "",
      "1st",
      "a-b",
      "a.b",
      "a b",
      'a"b',
      "a'b",
      "a$b",
      "caf\u00e9",
      "sessions\n",
      "\nsessions",
      "sessions\u0000",
    ]
  ) {
    assert.throws(
      () => checkTableName("f", table),
      /option "table" must be a plain SQL name/,
      JSON.stringify(table),
    );
  }
});

test("sql: checkTableName's error starts with the factory, names the option and the value, and never prints the string", () => {
  const table = 'x"; DROP TABLE users; --';
  assert.throws(
    () => checkTableName("createSqlStore", table, 40),
    (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.equal(
        error.message,
        'createSqlStore: option "table" must be a plain SQL name (letters, ' +
          "digits and underscores, not starting with a digit, at most 40 " +
          `characters), got a string of ${table.length} characters.`,
      );
      return true;
    },
  );
  for (
    const [table, got] of [
      [42, "42"],
      [undefined, "undefined"],
      [null, "null"],
      [["sessions"], "an array of 1 item"],
    ]
  ) {
    assert.throws(
      () => checkTableName("f", table),
      new RegExp(`^TypeError: f: option "table" .*, got ${got}\\.$`),
    );
  }
});

test("sql: firstVersion is a random whole number that leaves room for 2^52 increments", () => {
  const versions = new Set<number>();
  for (let i = 0; i < 100; i++) {
    const version = firstVersion();
    assert.ok(Number.isSafeInteger(version) && version >= 0, String(version));
    assert.ok(version + 2 ** 52 <= Number.MAX_SAFE_INTEGER, String(version));
    versions.add(version);
  }
  // 100 draws from 2^48 values repeat one with a chance under 2^-34.
  assert.equal(versions.size, 100);
});
