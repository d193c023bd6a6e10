// The suite's self-test: a suite that passes every store is worthless, so
// each deliberately broken store below, with one fault each, must fail the
// case written for that fault, while the same store without the fault
// passes every case.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  setImmediate as nextTurn,
  setTimeout as sleep,
} from "node:timers/promises";
import { Buffer } from "node:buffer";
import {
  createSession,
  type Session,
  type SessionData,
  type SessionStorage,
} from "../session.ts";
import { readFileSync } from "node:fs";
import { repoPath } from "../testing/repo_root.ts";
import {
  sessionStorageCases,
  type SessionStorageTestCase,
  type SessionStorageTestOptions,
} from "./mod.ts";

// A run of the suite takes longer than Bun's default of 5 s per test.
const SLOW = { timeout: 600_000 };

type Fault =
  | "ignores destroy"
  | "clears no cookie on destroy"
  | "adopts unknown ids"
  | "keeps flash values for two requests"
  | "returns a value for an untouched session"
  | "forgets deleteId"
  | "forgets deleteId on destroy"
  | "deletes the id it last wrote, not deleteId"
  | "deletes the old id on regenerateId()"
  | "shares data by reference"
  | "throws on a garbage cookie"
  | "loses data when saves overlap"
  | "leaves a gap while it saves"
  | "tears writes"
  | "strips keys like __proto__"
  | "mangles astral-plane characters"
  | "ignores the ttl"
  | "reads the ttl as milliseconds"
  | "renews only changed sessions"
  | "never renews a session"
  | "reads null as the last saved session"
  | "gives every new session the same id"
  | "returns null for a changed session"
  | "merges a save into the stored values"
  | "never overwrites a stored session"
  | "drops flash values"
  | "overwrites without checking the version"
  | "checks the version, then writes a moment later"
  | "writes back a session deleted since its read"
  | "writes only sessions whose values changed";

interface StoredRecord {
  text: string;
  expires: number | null;
  // A new number on every write, for the compare-and-set.
  version: number;
  // Whether the flash values were carried over from an earlier request:
  // the "keeps flash values for two requests" fault carries them once.
  carried: boolean;
}

/**
 * A small, correct server-side store, plus at most one fault. Sessions are
 * kept as JSON text; the ttl rule is the built-in stores': every write
 * renews, and an unchanged session is written again once less than half of
 * its ttl is left.
 */
function createFaultyStorage(
  fault: Fault | null,
  ttlSeconds?: number,
  clock: "milliseconds" | "whole seconds" = "milliseconds",
): SessionStorage {
  const ttl = ttlSeconds === undefined
    ? undefined
    : ttlSeconds * (fault === "reads the ttl as milliseconds" ? 1 : 1000);
  const records = new Map<string, StoredRecord>();
  const shared = new Map<string, SessionData>();
  const readIds = new WeakMap<Session, string>();
  const readVersions = new WeakMap<Session, number>();
  let lastVersion = 0;
  const readExpiries = new WeakMap<Session, number | null>();
  const writtenIds = new WeakMap<Session, string>();
  const carriedFlash = new WeakMap<Session, SessionData[1]>();
  let pending = "";
  let lastSaved: string | undefined;

  function decode(text: string): SessionData {
    const data = JSON.parse(text) as SessionData;
    if (fault !== "strips keys like __proto__") return data;
    // A naive defence against prototype pollution that loses user data.
    const strip = (record: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(record).filter(([key]) =>
          key !== "__proto__" && key !== "constructor"
        ),
      );
    return [strip(data[0]), strip(data[1])];
  }

  function encode(data: SessionData): string {
    const text = JSON.stringify(data);
    if (fault !== "mangles astral-plane characters") return text;
    return text.replace(/[\u{10000}-\u{10FFFF}]/gu, "\ufffd");
  }

  function isLive(record: StoredRecord | undefined): record is StoredRecord {
    if (record === undefined) return false;
    if (fault === "ignores the ttl") return true;
    return record.expires === null || record.expires > Date.now();
  }

  async function write(id: string, record: StoredRecord): Promise<void> {
    if (fault === "loses data when saves overlap") {
      pending = record.text;
      await sleep(1);
      records.set(id, { ...record, text: pending });
    } else if (fault === "tears writes") {
      // Like a file written in two system calls: half, then the rest.
      records.set(id, {
        ...record,
        text: record.text.slice(0, record.text.length >> 1),
      });
      await nextTurn();
      records.set(id, record);
    } else if (fault === "leaves a gap while it saves") {
      records.delete(id);
      await sleep(1);
      records.set(id, record);
    } else {
      records.set(id, record);
    }
  }

  return {
    async read(cookie) {
      if (
        fault === "throws on a garbage cookie" && cookie !== null &&
        !/^[A-Za-z0-9_-]{32}$/.test(cookie)
      ) {
        throw new Error("malformed session id");
      }
      if (fault === "reads null as the last saved session") {
        cookie ??= lastSaved ?? null;
      }
      const record = cookie ? records.get(cookie) : undefined;
      if (!cookie || !isLive(record)) {
        if (fault === "gives every new session the same id") {
          return createSession("the-one-id-for-everybody-0000000");
        }
        return createSession(
          fault === "adopts unknown ids" && cookie ? cookie : undefined,
        );
      }
      const data = fault === "shares data by reference"
        ? shared.get(cookie)!
        : decode(record.text);
      const session = createSession(cookie, data);
      readIds.set(session, cookie);
      readVersions.set(session, record.version);
      readExpiries.set(session, record.expires);
      if (fault === "keeps flash values for two requests" && !record.carried) {
        carriedFlash.set(session, data[1]);
      }
      return session;
    },

    async save(session) {
      if (session.destroyed) {
        if (
          session.deleteId !== undefined &&
          fault !== "forgets deleteId on destroy"
        ) {
          records.delete(session.deleteId);
        }
        if (fault !== "ignores destroy") records.delete(session.id);
        return fault === "clears no cookie on destroy" ? null : "";
      }
      const readExpiry = readExpiries.get(session);
      const renew = fault !== "renews only changed sessions" &&
        ttl !== undefined && typeof readExpiry === "number" &&
        readExpiry - Date.now() < ttl / 2;
      if (
        !session.dirty && !renew &&
        fault !== "returns a value for an untouched session"
      ) {
        return null;
      }
      // Judging by what the request changed, instead of by dirty, misses a
      // request whose only change is that it read its flash values.
      const changes = session.changes;
      if (
        fault === "writes only sessions whose values changed" && !renew &&
        changes.set.size + changes.unset.size + changes.flashed.size === 0 &&
        !changes.regenerated
      ) {
        return null;
      }
      const previous = records.get(session.id);
      if (fault === "never overwrites a stored session" && previous) {
        return session.id;
      }
      let [values, nextFlash] = session.data;
      // Compare-and-set against the record the session was read from:
      // checked and written with no await in between, so atomic.
      const readId = readIds.get(session);
      const base = readId === undefined ? undefined : records.get(readId);
      if (fault === "overwrites without checking the version") {
        // The last save wins, as stores did before compare-and-set.
      } else if (readId !== undefined && !isLive(base)) {
        if (fault !== "writes back a session deleted since its read") {
          return null;
        }
      } else if (
        base !== undefined && base.version !== readVersions.get(session)
      ) {
        [values, nextFlash] = session.mergeOnto(decode(base.text));
      }
      if (fault === "checks the version, then writes a moment later") {
        await sleep(1);
      }
      if (session.deleteId !== undefined && fault !== "forgets deleteId") {
        records.delete(
          fault === "deletes the id it last wrote, not deleteId"
            ? writtenIds.get(session) ?? session.deleteId
            : session.deleteId,
        );
      }
      if (fault === "merges a save into the stored values" && previous) {
        values = { ...decode(previous.text)[0], ...values };
      }
      if (fault === "drops flash values") nextFlash = {};
      const carried = carriedFlash.get(session);
      const carry = carried !== undefined &&
        Object.keys(nextFlash).length === 0;
      const flash = carry ? carried : nextFlash;
      const expires = ttl === undefined
        ? null
        : fault === "never renews a session" && previous
        ? previous.expires
        : clock === "whole seconds"
        // Like memcached: the expiry counts from the current whole second,
        // so a session lives between ttl - 1 s and ttl.
        ? (Math.floor(Date.now() / 1000) * 1000) + ttl
        : Date.now() + ttl;
      readExpiries.set(session, expires);
      if (fault === "shares data by reference") {
        shared.set(session.id, [values, flash]);
      }
      await write(session.id, {
        text: encode([values, flash]),
        expires,
        version: ++lastVersion,
        carried: carry,
      });
      if (
        fault === "deletes the old id on regenerateId()" &&
        readId !== undefined && readId !== session.id
      ) {
        records.delete(readId);
      }
      lastSaved = session.id;
      writtenIds.set(session, session.id);
      return fault === "returns null for a changed session" ? null : session.id;
    },
  };
}

type CookieFault =
  | "writes raw JSON into the cookie"
  | "gives a new id on every read";

/** A small cookie store (data in the cookie value), plus at most one fault. */
function createFaultyCookieStorage(fault: CookieFault | null): SessionStorage {
  return {
    async read(cookie) {
      let record: { id: string; data: SessionData } | undefined;
      try {
        const text = fault === "writes raw JSON into the cookie"
          ? cookie
          : Buffer.from(cookie ?? "", "base64url").toString();
        record = JSON.parse(text ?? "");
      } catch {
        record = undefined;
      }
      const valid = record !== null && typeof record === "object" &&
        typeof record.id === "string" && Array.isArray(record.data) &&
        /^[A-Za-z0-9_-]+$/.test(cookie ?? "") !==
          (fault === "writes raw JSON into the cookie");
      if (!valid) return createSession();
      return createSession(
        fault === "gives a new id on every read" ? undefined : record!.id,
        record!.data,
      );
    },
    async save(session) {
      if (session.destroyed) return "";
      if (!session.dirty) return null;
      const text = JSON.stringify({ id: session.id, data: session.data });
      return fault === "writes raw JSON into the cookie"
        ? text
        : Buffer.from(text).toString("base64url");
    },
  };
}

/**
 * The names of the cases the store fails; only those of the topic of
 * `rule` when given, which keeps the self-test quick.
 */
// With `together`, the cases run at once: for cases that mostly wait, each
// on a storage of its own.
async function failedCases(
  options: SessionStorageTestOptions,
  rule?: string,
  together = false,
): Promise<string[]> {
  const cases = sessionStorageCases(options);
  const topic = cases.find((c) => c.name === `${options.name}: ${rule}`)
    ?.topic;
  assert.ok(rule === undefined || topic, `no case checks "${rule}"`);
  const failed: string[] = [];
  const chosen = cases.filter((c) => topic === undefined || c.topic === topic);
  const run = (c: SessionStorageTestCase) =>
    c.fn().catch(() => failed.push(c.name));
  if (together) await Promise.all(chosen.map(run));
  else for (const c of chosen) await run(c);
  return failed;
}

const TTL = 0.3;
const TTL_FAULTS = new Set<Fault>([
  "ignores the ttl",
  "reads the ttl as milliseconds",
  "renews only changed sessions",
  "never renews a session",
]);

// Each fault, and the rule written to catch it.
const faults: [Fault, string][] = [
  [
    "ignores destroy",
    "a destroyed session's old cookie reads as a new session",
  ],
  [
    "clears no cookie on destroy",
    "save returns an empty string for a destroyed session",
  ],
  [
    "adopts unknown ids",
    "a cookie value no save returned is never adopted as the id",
  ],
  [
    "keeps flash values for two requests",
    "a flash value is gone in the request after the next one",
  ],
  [
    "returns a value for an untouched session",
    "save returns null for an untouched new session",
  ],
  ["forgets deleteId", "regenerateId(true) deletes the old session's data"],
  [
    "forgets deleteId on destroy",
    "destroy() after regenerateId(true) deletes the original id too",
  ],
  [
    "deletes the id it last wrote, not deleteId",
    "regenerateId(true) after a save under a regenerateId() id in one request deletes the original id",
  ],
  [
    "deletes the old id on regenerateId()",
    "regenerateId() keeps the old id readable, with its old data, for clients that retry with it",
  ],
  [
    "shares data by reference",
    "a value changed after save does not change the stored session",
  ],
  ["throws on a garbage cookie", "read of garbage gives a new session"],
  [
    "loses data when saves overlap",
    "50 sessions saved in parallel all read back intact",
  ],
  [
    "leaves a gap while it saves",
    "reads during a save see the old or the new data, never a gap",
  ],
  [
    "tears writes",
    "reads during a save see the old or the new data, never a gap",
  ],
  [
    "strips keys like __proto__",
    "keys like __proto__ and constructor stay plain data, with no prototype pollution",
  ],
  [
    "mangles astral-plane characters",
    "unicode text, astral plane included, reads back unchanged",
  ],
  [
    "ignores the ttl",
    "a session unused for longer than its ttl reads as a new session",
  ],
  [
    "reads the ttl as milliseconds",
    "a session read back within its ttl keeps its data",
  ],
  [
    "renews only changed sessions",
    "a session in use keeps living past its ttl, even when requests change nothing",
  ],
  ["never renews a session", "saving a changed session renews its ttl"],
  [
    "reads null as the last saved session",
    "read(null) gives a new, empty session",
  ],
  ["gives every new session the same id", "new sessions get different ids"],
  [
    "returns null for a changed session",
    "save returns a non-empty string for a changed session",
  ],
  [
    "merges a save into the stored values",
    "unset removes a value for later requests",
  ],
  [
    "never overwrites a stored session",
    "a value replaced in a later request reads back replaced",
  ],
  ["drops flash values", "a flash value is visible in the next request"],
  [
    "writes only sessions whose values changed",
    "a flash value is gone in the request after the next one",
  ],
  [
    "overwrites without checking the version",
    "10 overlapping requests that each set their own key lose no update, over 50 rounds",
  ],
  [
    "overwrites without checking the version",
    "a flash value read by 4 overlapping requests is consumed once, and one they flash survives, over 50 rounds",
  ],
  [
    "checks the version, then writes a moment later",
    "10 overlapping requests that each set their own key lose no update, over 50 rounds",
  ],
  [
    "writes back a session deleted since its read",
    "a logout overlapped by 4 in-flight saves is final, over 200 rounds",
  ],
  [
    "writes back a session deleted since its read",
    "the old id of regenerateId(true) never returns, though 4 in-flight saves carry it, over 200 rounds",
  ],
  [
    "writes back a session deleted since its read",
    "a save after regenerateId() writes nothing once another request destroyed the session",
  ],
  [
    "overwrites without checking the version",
    "a save after regenerateId() carries over what another request saved under the old id since its read",
  ],
];

const cookieFaults: [CookieFault, string][] = [
  [
    "writes raw JSON into the cookie",
    "the value save returns is made of cookie-safe characters",
  ],
  [
    "gives a new id on every read",
    "the value save returns reads back as the same id and data",
  ],
];

test(
  "conformance suite: the correct twin of the broken stores passes every case",
  SLOW,
  async () => {
    const failed = await failedCases({
      name: "twin",
      create: ({ ttl }) => createFaultyStorage(null, ttl),
      ttl: TTL,
    });
    assert.deepEqual(failed, []);
  },
);

test(
  "conformance suite: the correct twin of the broken cookie stores passes every case",
  SLOW,
  async () => {
    const failed = await failedCases({
      name: "cookie twin",
      create: () => createFaultyCookieStorage(null),
      dataInCookie: true,
      cookieSafeValues: true,
    });
    assert.deepEqual(failed, []);
  },
);

test(
  "conformance suite: calls create for every case and cleanup after it, passed or failed",
  SLOW,
  async () => {
    const created: SessionStorage[] = [];
    const cleaned: SessionStorage[] = [];
    const cases = sessionStorageCases({
      name: "counted",
      create() {
        // A store that fails every case at once, which keeps this quick.
        const storage: SessionStorage = {
          read: () => Promise.reject(new Error("out of order")),
          save: () => Promise.reject(new Error("out of order")),
        };
        created.push(storage);
        return storage;
      },
      cleanup(storage) {
        cleaned.push(storage);
      },
    });
    let failed = 0;
    for (const c of cases) await c.fn().catch(() => failed++);
    assert.equal(failed, cases.length, "the broken store fails every case");
    assert.equal(created.length, cases.length);
    assert.equal(new Set(created).size, cases.length, "a fresh storage each");
    assert.deepEqual(cleaned, created);
  },
);

test("conformance suite: a failing cleanup fails its case", SLOW, async () => {
  const [first] = sessionStorageCases({
    name: "unclean",
    create: () => createFaultyStorage(null),
    cleanup() {
      throw new Error("could not drop the table");
    },
  });
  await assert.rejects(first.fn(), /could not drop the table/);
});

test("conformance suite: options it cannot use are refused with an error that names them", () => {
  const create = () => createFaultyStorage(null);
  const bad: [Partial<SessionStorageTestOptions>, RegExp][] = [
    [{ create }, /option "name" must be a non-empty string/],
    [{ name: "x" }, /option "create" must be a function/],
    [{ name: "x", create, ttl: 0 }, /option "ttl" .* got 0/],
    [{ name: "x", create, ttl: 301 }, /option "ttl" .* at most 300, got 301/],
    [{ name: "x", create, maxValueBytes: 10 }, /"maxValueBytes" .* got 10/],
    [
      { name: "x", create, dataInCookie: "yes" as unknown as boolean },
      /option "dataInCookie" must be true or false, got a string/,
    ],
    [
      { name: "x", create, cookieSafeValues: 1 as unknown as boolean },
      /option "cookieSafeValues" must be true or false, got 1/,
    ],
    [
      { name: "x", create, maxLifetime: "1" as unknown as number },
      /option "maxLifetime" .* got a string of 1 character\./,
    ],
    [
      {
        name: "x",
        create,
        reopen: "yes" as unknown as SessionStorageTestOptions["reopen"],
      },
      /option "reopen" must be a function or left out, got a string of 3 characters\./,
    ],
    [
      { name: "x", create, index: "yes" as unknown as boolean },
      /option "index" must be true or false, got a string of 3 characters\./,
    ],
    [
      { name: "x", create, concurrencySeconds: 0 },
      /option "concurrencySeconds" must be a number from 0.1 to 60, got 0/,
    ],
    [
      { name: "x", create, concurrencySeconds: Infinity },
      /option "concurrencySeconds" .* got Infinity/,
    ],
  ];
  for (const [options, message] of bad) {
    assert.throws(
      () => sessionStorageCases(options as SessionStorageTestOptions),
      message,
    );
  }
});

test(
  "conformance suite: a correct store whose clock counts whole seconds passes the expiry cases with a ttl of 5",
  SLOW,
  async () => {
    const failed = await failedCases(
      {
        name: "whole-second twin",
        create: ({ ttl }) => createFaultyStorage(null, ttl, "whole seconds"),
        ttl: 5,
      },
      "saving a changed session renews its ttl",
      true,
    );
    assert.deepEqual(failed, []);
  },
);

test("conformance suite: accepts a ttl of a minute, for stores whose shortest ttl is that long, in the expiry cases and the index case on ttl", () => {
  const cases = sessionStorageCases({
    name: "slow clock",
    create: () => createFaultyStorage(null),
    ttl: 60,
    index: true,
  });
  const expiry = cases.filter((c) => c.topic === "expiry");
  assert.equal(expiry.length, 4);
  for (const c of expiry) {
    assert.ok(c.timeout >= 4 * 90_000, `${c.name}: room for 4 attempts`);
  }
  // The index case on ttl waits 1.2 ttls an attempt.
  const [listing] = cases.filter((c) =>
    c.topic === "per-user index" && c.name.includes("ttl")
  );
  assert.ok(listing.timeout >= 4 * 72_000, `${listing.name}: 4 attempts`);
});

test(
  "conformance suite: a create that returns no storage fails with an error that names create",
  SLOW,
  async () => {
    const [first] = sessionStorageCases({
      name: "forgetful",
      // @ts-expect-error: the mistake under test, a body with no return.
      create() {
        createFaultyStorage(null);
      },
    });
    await assert.rejects(
      first.fn(),
      /option "create" must return \(or resolve to\) a session storage with read\(\) and save\(\) methods, got undefined/,
    );
  },
);

test(
  "conformance suite: a session without the members the suite uses is named member by member",
  SLOW,
  async () => {
    const [first] = sessionStorageCases({
      name: "partial",
      create: () => ({
        read: async () => ({ id: "x" }),
        save: async () => null,
      } as unknown as SessionStorage),
    });
    await assert.rejects(
      first.fn(),
      /size is undefined, not a number; get is undefined, not a function/,
    );
  },
);

test(
  "conformance suite: every failure ends with the usual cause of its rule",
  SLOW,
  async () => {
    const failed = sessionStorageCases({
      name: "store that forgets deleteId",
      create: () => createFaultyStorage("forgets deleteId"),
    }).find((c) =>
      c.name.endsWith("regenerateId(true) deletes the old session's data")
    )!;
    await assert.rejects(
      failed.fn(),
      /\nUsual cause: save ignores session\.deleteId\.$/,
    );
  },
);

test(
  "conformance suite: a failure message tells the cookie values a store answered by what they are, never by their text",
  SLOW,
  async () => {
    const answered = new Set<string>();
    const rule =
      "a logout overlapped by 4 in-flight saves is final, over 200 rounds";
    const logout = sessionStorageCases({
      name: "s",
      create(): SessionStorage {
        const storage = createFaultyStorage(
          "writes back a session deleted since its read",
        );
        return {
          read: (cookie) => storage.read(cookie),
          async save(session) {
            const saved = await storage.save(session);
            if (saved) answered.add(saved);
            return saved;
          },
        };
      },
    }).find((c) => c.name === `s: ${rule}`)!;
    const error = await logout.fn().then(() => undefined, (error) => error);
    assert.ok(error instanceof Error, "the store fails the case");
    assert.match(error.message, /in-flight saves answered: the logged-out id/);
    assert.ok(answered.size > 0);
    for (const id of answered) {
      assert.ok(!error.message.includes(id), "the message holds a session id");
    }
  },
);

test('conformance suite: the cases the ttl option brings in, and no others, have "ttl" in their name, so a name filter can skip them', () => {
  const options = {
    name: "s",
    create: () => createFaultyStorage(null),
    reopen: () => createFaultyStorage(null),
    maxLifetime: 1,
    index: true,
    cookieSafeValues: true,
  };
  const without = sessionStorageCases(options).map((c) => c.name);
  const added = sessionStorageCases({ ...options, ttl: 1 })
    .map((c) => c.name).filter((name) => !without.includes(name));
  assert.deepEqual(added.filter((name) => !name.includes("ttl")), []);
  assert.deepEqual(without.filter((name) => name.includes("ttl")), []);
});

test("conformance suite: README.md's table lists every rule, when it applies, and its usual cause", () => {
  const every = sessionStorageCases({
    name: "s",
    create: () => createFaultyStorage(null),
    reopen: () => createFaultyStorage(null),
    ttl: 1,
    maxLifetime: 1,
    index: true,
    cookieSafeValues: true,
  });
  const inCookie = new Set(
    sessionStorageCases({
      name: "s",
      create: () => createFaultyStorage(null),
      dataInCookie: true,
      maxValueBytes: 100_000,
    }).map((c) => c.name),
  );
  const expected = every.map((c) => {
    const rule = c.name.slice("s: ".length)
      .replace("100000 bytes", "maxValueBytes bytes");
    const when = c.topic === "expiry"
      ? "with ttl"
      : c.topic === "maxLifetime"
      ? rule.includes("idle ttl")
        ? "with maxLifetime and ttl"
        : "with maxLifetime"
      : c.topic === "per-user index"
      ? rule.includes("ttl") ? "with index and ttl" : "with index"
      : c.topic === "records written before an option was on"
      ? rule.includes("without ttl")
        ? "with ttl, and reopen or dataInCookie"
        : rule.includes("without maxLifetime")
        ? "with maxLifetime, and reopen or dataInCookie"
        : "with reopen or dataInCookie"
      : rule.includes("cookie-safe")
      ? "with cookieSafeValues"
      : inCookie.has(c.name)
      ? "always"
      : "not with dataInCookie";
    return [c.topic, rule, when, c.cause].join(" | ");
  });
  const readme = readFileSync(repoPath("conformance", "README.md"), "utf8");
  const table = readme.split("\n## The rules\n")[1].split("\n\n")[1];
  const rows = table.split("\n").slice(2).map((row) =>
    row.split(" | ").map((cell) => cell.replace(/^\| |`| +\|?$/g, "").trim())
      .join(" | ")
  );
  assert.deepEqual(rows, expected);
});

for (const [fault, rule] of faults) {
  test(
    `conformance suite: catches a store that ${fault}: ${rule}`,
    SLOW,
    async () => {
      const name = `store that ${fault}`;
      const failed = await failedCases({
        name,
        create: ({ ttl }) => createFaultyStorage(fault, ttl),
        // The expiry cases take a second or two; run them where they matter.
        ttl: TTL_FAULTS.has(fault) ? TTL : undefined,
        // A quick run's shorter replay would catch torn writes only by luck.
        concurrencySeconds: fault === "tears writes" ? 2 : undefined,
      }, rule);
      assert.ok(
        failed.includes(`${name}: ${rule}`),
        `expected the case "${rule}" to fail; failed: ${
          JSON.stringify(failed)
        }`,
      );
    },
  );
}

for (const [fault, rule] of cookieFaults) {
  test(
    `conformance suite: catches a cookie store that ${fault}: ${rule}`,
    SLOW,
    async () => {
      const name = `cookie store that ${fault}`;
      const failed = await failedCases({
        name,
        create: () => createFaultyCookieStorage(fault),
        dataInCookie: true,
        cookieSafeValues: true,
      }, rule);
      assert.ok(
        failed.includes(`${name}: ${rule}`),
        `expected the case "${rule}" to fail; failed: ${
          JSON.stringify(failed)
        }`,
      );
    },
  );
}
