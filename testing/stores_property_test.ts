// Property tests of the built-in stores with fast-check: arbitrary JSON
// session data round-trips, `read` never throws for any cookie value, the
// memory store never holds more than `maxSessions`, and session ids never
// appear in error messages.
//
// 100 runs per property by default, 1000 with STRESS=1 (`deno task stress`).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import fc from "fast-check";
import type { SessionStorage } from "../session.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";

const NUM_RUNS = process.env.STRESS === "1" ? 1000 : 100;
let inputsTried = 0;

const work = mkdtempSync(join(tmpdir(), "stores-prop-"));
after(() => {
  rmSync(work, { recursive: true, force: true });
  console.log(`store properties: ${inputsTried} generated inputs tried`);
});

const STORES: { name: string; create: () => SessionStorage }[] = [
  { name: "memory", create: () => createMemorySessionStorage({ ttl: 60 }) },
  {
    name: "fs",
    create: () =>
      createFsSessionStorage(mkdtempSync(join(work, "fs-")), { ttl: 60 }),
  },
  { name: "cookie", create: () => createCookieSessionStorage({ ttl: 60 }) },
];

const BASE64URL =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const idLike = fc.string({
  unit: fc.constantFrom(...BASE64URL),
  minLength: 16,
  maxLength: 64,
});
const values = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 });

/** What JSON gives back for a value: -0 reads back as 0, for example. */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}
// Anything a client could put in a cookie value, and then some.
const cookieValue = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  idLike,
  fc.jsonValue().map((json) =>
    Buffer.from(JSON.stringify(json) ?? "").toString("base64url")
  ),
  fc.record({
    i: fc.oneof(fc.string(), fc.jsonValue()),
    d: fc.oneof(fc.jsonValue(), fc.tuple(values, values)),
    e: fc.oneof(fc.constant(null), fc.double(), fc.jsonValue()),
  }, { requiredKeys: [] }).map((record) =>
    Buffer.from(JSON.stringify(record)).toString("base64url")
  ),
);

function options() {
  return { numRuns: NUM_RUNS };
}

describe("store properties", () => {
  for (const { name, create } of STORES) {
    it(`${name} store: any JSON values and flash values read back as they were saved`, async () => {
      const storage = create();
      await fc.assert(
        fc.asyncProperty(values, values, async (set, flash) => {
          inputsTried++;
          const session = await storage.read(null);
          for (const [key, value] of Object.entries(set)) {
            session.set(key, value);
          }
          for (const [key, value] of Object.entries(flash)) {
            session.flash(key, value);
          }
          const cookie = await storage.save(session);
          if (cookie === null) {
            // Nothing was set: nothing to save, and the cookie stays as is.
            assert.equal(
              Object.keys(set).length + Object.keys(flash).length,
              0,
            );
            return;
          }
          const read = await storage.read(cookie);
          // Setting null removes a key, as documented.
          const expected = Object.fromEntries(
            Object.entries(set).filter(([, value]) => value !== null),
          );
          assert.deepEqual(read.data[0], asJson(expected));
          for (const [key, value] of Object.entries(flash)) {
            if (!Object.hasOwn(expected, key)) {
              assert.deepEqual(read.get(key), asJson(value));
            }
          }
        }),
        options(),
      );
    });

    it(`${name} store: read never throws for any cookie value and starts a new session for one it did not issue`, async () => {
      const storage = create();
      const kept = await storage.read(null);
      kept.set("user", "ada");
      const issued = (await storage.save(kept))!;
      await fc.assert(
        fc.asyncProperty(cookieValue, async (value) => {
          inputsTried++;
          const session = await storage.read(value);
          if (value !== issued) {
            assert.notEqual(session.id, value);
            assert.equal(session.get("user"), undefined);
          }
          // A session read from garbage can be used and saved as usual.
          session.set("seen", true);
          assert.equal(typeof await storage.save(session), "string");
        }),
        options(),
      );
      assert.equal((await storage.read(issued)).get("user"), "ada");
    });

    it(`${name} store: a value that cannot be saved gets an error without the session id`, async () => {
      const storage = create();
      await fc.assert(
        fc.asyncProperty(fc.string(), async (key) => {
          inputsTried++;
          const session = await storage.read(null);
          session.set(key, { big: 1n });
          const error = await storage.save(session).then(
            () => assert.fail("a BigInt must not save"),
            (error: Error) => error,
          );
          assert.match(error.message, /JSON-serializable/);
          assert.ok(!inspect(error, { depth: 5 }).includes(session.id));
        }),
        options(),
      );
    });
  }

  it("memory store: a flood of new sessions never holds more than maxSessions, and keeps the most recent", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 400 }),
        async (maxSessions, flood) => {
          inputsTried++;
          const storage = createMemorySessionStorage({ maxSessions });
          const ids: string[] = [];
          for (let i = 0; i < flood; i++) {
            const session = await storage.read(null);
            session.set("i", i);
            ids.push((await storage.save(session))!);
          }
          let held = 0;
          for (const [i, id] of ids.entries()) {
            const session = await storage.read(id);
            if (session.id === id) held++;
            // The most recent sessions are the ones kept.
            if (i >= flood - maxSessions) assert.equal(session.get("i"), i);
          }
          assert.equal(held, Math.min(flood, maxSessions));
        },
      ),
      options(),
    );
  });

  it("fs store: errors of a failed write or delete name the folder but never the session id", async () => {
    await fc.assert(
      fc.asyncProperty(idLike, fc.boolean(), async (id, destroy) => {
        inputsTried++;
        const root = mkdtempSync(join(work, "broken-"));
        const storage = createFsSessionStorage(root, { useUnknownIds: true });
        const session = await storage.read(id);
        assert.equal(session.id, id);
        session.set("user", "ada");
        if (destroy) session.destroy();
        // Whatever the disk says, the folder is now a file.
        rmSync(root, { recursive: true });
        writeFileSync(root, "");
        const error = await storage.save(session).then(
          () => assert.fail("save must reject when the folder is a file"),
          (error: Error) => error,
        );
        assert.match(
          error.message,
          destroy ? /could not delete a session file/ : /could not write/,
        );
        assert.ok(error.message.includes(root));
        assert.ok(!inspect(error, { depth: 5 }).includes(id));
        rmSync(root);
      }),
      options(),
    );
  });
});
