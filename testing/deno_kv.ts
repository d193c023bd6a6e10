// Test helper: opens a Deno KV database with Deno.openKv under Deno, and with
// the @deno/kv package under Node and Bun. Not part of the public API.

import type { KvKey, KvSessionDatabase } from "../kv_storage.ts";

/** A database the tests can write to directly and close. */
export type TestKv = KvSessionDatabase & {
  set(key: KvKey, value: Uint8Array): Promise<unknown>;
  close(): void;
};

/** Opens the database at `path`, or an in-memory one for `":memory:"`. */
export async function openKv(path: string): Promise<TestKv> {
  const deno = (globalThis as { Deno?: { openKv?: (path: string) => unknown } })
    .Deno;
  if (deno) {
    if (!deno.openKv) {
      throw new Error("Run the Deno KV tests with --unstable-kv.");
    }
    return await deno.openKv(path) as TestKv;
  }
  const { openKv } = await import("@deno/kv");
  // The store writes only bytes, so @deno/kv needs no V8 serializer, and
  // runs under Bun too.
  const unused = () => {
    throw new Error("The session store writes only Uint8Array values.");
  };
  return await openKv(path, { encodeV8: unused, decodeV8: unused }) as TestKv;
}
