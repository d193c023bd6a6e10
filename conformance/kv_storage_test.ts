// The conformance suite run on the Deno KV store, in memory and file-backed:
// under Deno with --unstable-kv, under Node and Bun with @deno/kv.

import { after, describe } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionStorage } from "../session.ts";
import { openKv, type TestKv } from "../_deno_kv.ts";
import { createKvSessionStorage } from "../kv_storage.ts";
import { testSessionStorage } from "./mod.ts";

const databases = new WeakMap<SessionStorage, TestKv>();
// Deno KV's limit is 65536 bytes per value, record fields included.
const MAX_VALUE_BYTES = 65_000;

function suite(name: string, path: () => string) {
  testSessionStorage({
    name,
    async create({ ttl }) {
      const kv = await openKv(path());
      const storage = createKvSessionStorage(kv, { ttl });
      databases.set(storage, kv);
      return storage;
    },
    cleanup(storage) {
      databases.get(storage)?.close();
    },
    ttl: 0.5,
    maxValueBytes: MAX_VALUE_BYTES,
  });
}

suite("kv store (in memory)", () => ":memory:");

describe("kv store (file-backed) conformance", () => {
  const folder = mkdtempSync(join(tmpdir(), "x-session-kv-conformance-"));
  let files = 0;
  after(() => rmSync(folder, { recursive: true, force: true }));
  suite("kv store (file-backed)", () => join(folder, `${++files}.sqlite`));
});
