// What the SQL stores share. Not part of the public API.

import { describeValue } from "./_describe.ts";

/**
 * Checks the `table` option of a SQL store and returns it: a plain name the
 * store can put between double quotes in its SQL, so no quoting or
 * injection question arises. `longest` is the most characters the engine
 * keeps of the name with the store's longest index suffix after it.
 */
export function checkTableName(
  factory: string,
  table: unknown,
  longest = 63,
): string {
  if (
    typeof table !== "string" || table.length > longest ||
    !/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)
  ) {
    throw new TypeError(
      `${factory}: option "table" must be a plain SQL name (letters, ` +
        "digits and underscores, not starting with a digit, at most " +
        `${longest} characters), got ${describeValue(table)}.`,
    );
  }
  return table;
}

/**
 * The version of a new row. Rows count their versions up from a random
 * start rather than from 1, so that a row deleted and created again under
 * the same id (an adopted id, with `useUnknownIds`) does not repeat a
 * version that an overlapping save still expects.
 */
export function firstVersion(): number {
  return Math.floor(Math.random() * 2 ** 48);
}
