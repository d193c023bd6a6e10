// Test helper: measures parsing work as a count of characters, not a time.

/**
 * How many characters the string methods examine while `work` runs: a
 * count, not a time, so it is the same on a busy machine. Each call is
 * charged what it reads or copies (a search from its start to where it
 * stopped, a slice its length, a whole-string operation the whole string),
 * so a parser that rescans or copies the header once per cookie shows up
 * as quadratic whichever of these methods it uses. When `work` returns a
 * promise, what runs until it settles counts too: nothing else may run
 * meanwhile.
 */
export async function stringWork(work: () => unknown): Promise<number> {
  const prototype = String.prototype as unknown as Record<
    string,
    (...args: unknown[]) => unknown
  >;
  const regExpPrototype = RegExp.prototype as unknown as Record<
    string | symbol,
    (...args: unknown[]) => unknown
  >;
  let examined = 0;
  const charge = (
    target: Record<string | symbol, (...args: unknown[]) => unknown>,
    key: string | symbol,
    cost: (self: string, args: unknown[], result: unknown) => number,
  ) => {
    const original = target[key];
    target[key] = function (this: string, ...args: unknown[]) {
      const result = original.apply(this, args);
      examined += cost(String(this), args, result);
      return result;
    };
    return () => (target[key] = original);
  };
  const searched = (self: string, args: unknown[], result: unknown) => {
    const from = Number(args[1] ?? 0);
    const found = result as number;
    return (found === -1 ? self.length : found + String(args[0]).length) -
      from;
  };
  const whole = (self: string) => self.length;
  const copied = (_self: string, _args: unknown[], result: unknown) =>
    String(result).length;
  const restore = [
    charge(prototype, "indexOf", searched),
    charge(prototype, "lastIndexOf", whole),
    charge(prototype, "includes", whole),
    charge(prototype, "startsWith", () => 1),
    charge(prototype, "charCodeAt", () => 1),
    charge(prototype, "charAt", () => 1),
    charge(prototype, "at", () => 1),
    charge(prototype, "slice", copied),
    charge(prototype, "substring", copied),
    charge(prototype, "split", whole),
    charge(prototype, "trim", whole),
    charge(prototype, "trimStart", whole),
    charge(prototype, "trimEnd", whole),
    charge(prototype, "replace", whole),
    charge(prototype, "match", whole),
    charge(prototype, "search", whole),
    charge(regExpPrototype, "test", (_self, args) => String(args[0]).length),
    charge(regExpPrototype, "exec", (_self, args) => String(args[0]).length),
  ];
  try {
    await work();
  } finally {
    for (const undo of restore) undo();
  }
  return examined;
}
