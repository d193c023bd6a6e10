import { test } from "node:test";
import assert from "node:assert/strict";
import { describeValue } from "./_describe.ts";

test("describeValue: a string is told by its length, never printed", () => {
  const secret = "s3cr3t-value-that-must-not-leak";
  const text = describeValue(secret);
  assert.equal(text, `a string of ${secret.length} characters`);
  assert.ok(!text.includes("s3cr3t"));
  assert.equal(describeValue("x"), "a string of 1 character");
  assert.equal(describeValue(""), "a string of 0 characters");
});

test("describeValue: numbers, booleans and bigints are printed as they are", () => {
  assert.equal(describeValue(-1.5), "-1.5");
  assert.equal(describeValue(Number.NaN), "NaN");
  assert.equal(describeValue(false), "false");
  assert.equal(describeValue(10n), "10n");
});

test("describeValue: other values are named by their kind", () => {
  assert.equal(describeValue(null), "null");
  assert.equal(describeValue(undefined), "undefined");
  assert.equal(describeValue(() => {}), "a function");
  assert.equal(describeValue(Symbol("s")), "a symbol");
  assert.equal(describeValue(["a", "b"]), "an array of 2 items");
  assert.equal(describeValue([1]), "an array of 1 item");
  assert.equal(describeValue(new Date(0)), "a Date");
  assert.equal(describeValue(new Date(Number.NaN)), "an invalid Date");
  assert.equal(describeValue(new Map()), "an object (Map)");
  assert.equal(describeValue({}), "an object (Object)");
  assert.equal(
    describeValue(Object.create(null)),
    "an object with no prototype",
  );
});
