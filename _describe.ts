// How every module names a bad value in an error message. A string is never
// printed: one given in the wrong place could be a secret or a session id, so
// only its length is told. Not part of the public API.

/**
 * Describes `value` for an error message without printing any string it
 * holds: `a string of 7 characters`, `42`, `an array of 2 items`, `an object
 * (Map)`.
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return `a string of ${value.length} character${
        value.length === 1 ? "" : "s"
      }`;
    case "number":
    case "boolean":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "undefined":
      return "undefined";
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (value === null) return "null";
  if (Array.isArray(value)) {
    return `an array of ${value.length} item${value.length === 1 ? "" : "s"}`;
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "an invalid Date" : "a Date";
  }
  const name = (value as object).constructor?.name;
  return name ? `an object (${name})` : "an object with no prototype";
}
