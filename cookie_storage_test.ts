import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createCookieSessionStorage } from "./cookie_storage.ts";
import { type Cookie, createCookie } from "./cookie.ts";
import type { Session, SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import { nextCookieHeader } from "./testing/cookie_jar.ts";

describe("cookie store", () => {
  it("cookie store: the cookie value carries the id and the data, so any instance reads it", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("user", { name: "Zoë 🐙" });
    const cookie = await storage.save(session);
    assert.match(cookie!, /^[A-Za-z0-9_-]+$/);
    const again = await createCookieSessionStorage().read(cookie);
    assert.equal(again.id, session.id);
    assert.deepEqual(again.get("user"), { name: "Zoë 🐙" });
  });

  it("cookie store: a cookie value that is not a string reads as a new session, as in the other stores", async () => {
    const storage = createCookieSessionStorage();
    for (const value of [123, {}, ["e30"]]) {
      const read = await storage.read(value as unknown as string);
      assert.equal(read.size, 0);
    }
  });

  it("cookie store: base64url of wrongly shaped records reads as a new session", async () => {
    const storage = createCookieSessionStorage();
    const wrongShapes = [
      "{}",
      "[]",
      '{"i":"x","d":{},"e":null}',
      '{"i":"","d":[{},{}],"e":null}',
      '{"d":[{"n":1},{}],"e":null}',
    ];
    for (const text of wrongShapes) {
      const read = await storage.read(Buffer.from(text).toString("base64url"));
      assert.equal(read.size, 0, `read data from ${text}`);
    }
  });

  it("cookie store: regenerateId(true) warns once per storage that the old cookie stays valid until its ttl", async () => {
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args);
    try {
      const storage = createCookieSessionStorage({ ttl: 60 });
      const other = createCookieSessionStorage({ ttl: 60 });
      const first = await storage.read(null);
      first.set("n", 1);
      first.regenerateId();
      await storage.save(first);
      assert.equal(warnings.length, 0, "regenerateId() without true");
      for (const target of [storage, storage, other]) {
        const session = await target.read(null);
        session.set("n", 1);
        session.regenerateId(true);
        await target.save(session);
      }
      assert.equal(warnings.length, 2, "once for each of the two storages");
      const message = String(warnings[0][0]);
      assert.match(message, /old cookie stays valid until its ttl/);
      assert.match(message, /use a server-side store/);
    } finally {
      console.warn = warn;
    }
  });

  it("cookie store: a value that is not JSON-serializable is refused with a clear error", async () => {
    const storage = createCookieSessionStorage();
    const session = await storage.read(null);
    session.set("big", 10n);
    await assert.rejects(storage.save(session), /JSON-serializable/);
  });
});

testSessionStorage({
  name: "cookie store",
  create: ({ ttl, maxLifetime }) =>
    createCookieSessionStorage({ ttl, maxLifetime }),
  dataInCookie: true,
  ttl: 0.5,
  maxLifetime: 1,
  // Base64url of a record this size stays under a browser's 4096 bytes.
  maxValueBytes: 3000,
  cookieSafeValues: true,
});

/**
 * `storage` seen through `cookie` and a browser: the value the suite hands
 * around is the request's whole `Cookie` header, and each save turns into
 * the `Set-Cookie` headers the middleware sends and the jar they leave.
 */
function throughCookie(
  storage: SessionStorage,
  cookie: Cookie,
): SessionStorage {
  const cookieHeaders = new WeakMap<Session, string | null>();
  return {
    async read(cookieHeader) {
      const session = await storage.read(await cookie.parse(cookieHeader));
      cookieHeaders.set(session, cookieHeader);
      return session;
    },
    async save(session) {
      const value = await storage.save(session);
      if (value === null) return null;
      const cookieHeader = cookieHeaders.get(session) ?? null;
      const setCookies = await cookie.serializeAll(
        value,
        cookieHeader,
        value === "" ? { maxAge: 0 } : undefined,
      );
      const next = nextCookieHeader(cookieHeader, setCookies);
      return value === "" ? "" : next!;
    },
  };
}

testSessionStorage({
  name: "cookie store, chunked cookie",
  create: ({ ttl }) =>
    throughCookie(
      createCookieSessionStorage({ ttl }),
      createCookie("sid", {
        secrets: ["a secret for the chunked conformance run, 32 bytes+"],
        encrypt: true,
        // The suite's thousand-values and concurrency cases store sessions
        // of tens of kB whatever maxValueBytes says: up to 89 kB of cookies
        // once encrypted, in 22 chunks, far more than a browser should be
        // sent, but chunked the same way.
        chunked: { maxBytes: 128 * 1024 },
      }),
    ),
  dataInCookie: true,
  ttl: 0.5,
  // Four times the single cookie's 3000.
  maxValueBytes: 12_000,
});
