// The conformance suite run on the built-in stores.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SessionStorage } from "../session.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { testSessionStorage } from "./mod.ts";

testSessionStorage({
  name: "memory store",
  create: ({ ttl }) => createMemorySessionStorage({ ttl }),
  ttl: 0.5,
  maxValueBytes: 1_000_000,
});

const folders = new WeakMap<SessionStorage, string>();

testSessionStorage({
  name: "fs store",
  create({ ttl }) {
    const folder = mkdtempSync(join(tmpdir(), "x-session-conformance-"));
    const storage = createFsSessionStorage(folder, { ttl });
    folders.set(storage, folder);
    return storage;
  },
  cleanup(storage) {
    rmSync(folders.get(storage)!, { recursive: true, force: true });
  },
  ttl: 0.5,
  maxValueBytes: 1_000_000,
});

testSessionStorage({
  name: "cookie store",
  create: ({ ttl }) => createCookieSessionStorage({ ttl }),
  dataInCookie: true,
  ttl: 0.5,
  // Base64url of a record this size stays under a browser's 4096 bytes.
  maxValueBytes: 3000,
});
