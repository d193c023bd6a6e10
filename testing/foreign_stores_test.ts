// check: runtimes deno node26
// The conformance suite on stores nobody here wrote: @remix-run/session
// 0.4.1's memory, fs and cookie stores, and express-session's MemoryStore
// behind a thin read/save adapter. Each store's verdict is written down:
// the cases it fails, and the defect of the store that each failure shows.
// A change to the suite that starts blaming correct behaviour, or stops
// catching a real defect, fails here. The stores' own types go in without a
// cast: that is part of what this file checks, under `deno check` and tsc.
// Not under Bun, where remix's fs store tears a file too rarely for a
// verdict every run (conformance/README.md has the figures).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMemorySessionStorage as createRemixMemoryStorage } from "@remix-run/session/memory-storage";
import { createFsSessionStorage as createRemixFsStorage } from "@remix-run/session/fs-storage";
import { createCookieSessionStorage as createRemixCookieStorage } from "@remix-run/session/cookie-storage";
import type { SessionStorage as RemixSessionStorage } from "@remix-run/session";
import expressSession from "express-session";
import { createSession, type Session, type SessionData } from "../session.ts";
import {
  sessionStorageCases,
  type SessionStorageLike,
  type SessionStorageTestOptions,
} from "../conformance/mod.ts";

// A run of the suite takes longer than Bun's default of 5 s per test.
const SLOW = { timeout: 600_000 };

/** The rules a store fails, each with the defect that makes it fail. */
type Verdict = Record<string, string>;

async function failedRules<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): Promise<string[]> {
  const failed: string[] = [];
  for (const c of sessionStorageCases(options)) {
    await c.fn().catch(() =>
      failed.push(c.name.slice(options.name.length + 2))
    );
  }
  return failed.sort();
}

function assertVerdict(failed: string[], verdict: Verdict): void {
  assert.deepEqual(failed, Object.keys(verdict).sort());
}

const folders = new WeakMap<RemixSessionStorage, string>();

// The overlapping-requests cases, which every store fails whose save writes
// the whole record it read, with no compare-and-set: all three below.
const overwrites: Verdict = {
  "10 overlapping requests that each set their own key lose no update, over 50 rounds":
    "save writes the whole session its request read, so the last save " +
    "erases the keys the other requests set",
  "a logout overlapped by 4 in-flight saves is final, over 200 rounds":
    "a save that was in flight during the logout writes the destroyed " +
    "session back",
  "the old id of regenerateId(true) never returns, though 4 in-flight saves carry it, over 200 rounds":
    "a save that was in flight during the login writes the old id back",
  "a flash value read by 4 overlapping requests is consumed once, and one they flash survives, over 50 rounds":
    "the last save erases the flash value and the keys the other " +
    "requests set",
  "a save after regenerateId() carries over what another request saved under the old id since its read":
    "save writes the session under its new id as its request read it",
  "a save after regenerateId() writes nothing once another request destroyed the session":
    "save writes the destroyed session back under its new id",
};

test(
  "remix memory store: fails only the cases of its shared objects and of overwrites",
  SLOW,
  async () => {
    const verdict: Verdict = {
      ...overwrites,
      "a value changed after save does not change the stored session":
        "save keeps session.data's objects: a nested object changed after " +
        "the save changes the stored session",
      "two reads of one session share no objects":
        "read hands the stored objects to every session it creates",
    };
    assertVerdict(
      await failedRules({
        name: "remix memory store",
        create: () => createRemixMemoryStorage(),
      }),
      verdict,
    );
  },
);

test(
  "remix fs store: fails only the cases of its torn writes and of overwrites",
  SLOW,
  async () => {
    const verdict: Verdict = {
      ...overwrites,
      "overlapping saves that set the same keys of one session leave one save's values whole":
        "fs.writeFile truncates, then writes, in place: overlapping saves " +
        "interleave, and a shorter write over a longer one leaves a mix",
      "reads during a save see the old or the new data, never a gap":
        "a read between the truncation and the write finds an empty or " +
        "partial file, and read rejects with a SyntaxError",
    };
    assertVerdict(
      await failedRules({
        name: "remix fs store",
        create() {
          const folder = mkdtempSync(join(tmpdir(), "x-session-remix-fs-"));
          const storage = createRemixFsStorage(folder);
          folders.set(storage, folder);
          return storage;
        },
        cleanup(storage) {
          rmSync(folders.get(storage)!, { recursive: true, force: true });
        },
      }),
      verdict,
    );
  },
);

test(
  "remix cookie store: fails only the case of the JSON shapes it accepts",
  SLOW,
  async () => {
    const verdict: Verdict = {
      "read of a 100 kB cookie value gives a new session":
        "read takes any JSON with fields i and d as a session: " +
        '{"d":"xx…"} becomes a session whose values are the string\'s ' +
        "characters",
    };
    // The store warns on the console, with the session id, whenever a
    // regenerated session is saved: quiet while the suite runs.
    const warn = console.warn;
    console.warn = () => {};
    try {
      assertVerdict(
        await failedRules({
          name: "remix cookie store",
          create: () => createRemixCookieStorage(),
          dataInCookie: true,
        }),
        verdict,
      );
    } finally {
      console.warn = warn;
    }
  },
);

/** What the adapter keeps in an express-session store. */
interface StoredSession extends expressSession.SessionData {
  data: SessionData;
}

/**
 * express-session's MemoryStore as a SessionStorage: `read` gets the
 * session, `save` sets a changed one, touches an unchanged one (as
 * express-session does on every request) and destroys the ids a session
 * asks to delete.
 */
function fromExpressStore(
  store: expressSession.MemoryStore,
  ttl?: number,
): SessionStorageLike<Session> {
  const call = <T>(
    run: (done: (error?: unknown, value?: T | null) => void) => void,
  ) =>
    new Promise<T | null | undefined>((resolve, reject) =>
      run((error, value) => error ? reject(error) : resolve(value))
    );
  const cookie = () =>
    ({
      originalMaxAge: ttl === undefined ? null : ttl * 1000,
      expires: ttl === undefined
        ? undefined
        : new Date(Date.now() + ttl * 1000),
    }) as expressSession.Cookie;
  return {
    async read(value) {
      if (!value) return createSession();
      const stored = await call<expressSession.SessionData>((done) =>
        store.get(value, done)
      ) as StoredSession | undefined;
      return stored ? createSession(value, stored.data) : createSession();
    },
    async save(session) {
      if (session.deleteId !== undefined) {
        await call((done) => store.destroy(session.deleteId!, done));
      }
      if (session.destroyed) {
        await call((done) => store.destroy(session.id, done));
        return "";
      }
      if (!session.dirty) {
        await call((done) =>
          store.touch(session.id, { cookie: cookie() }, done)
        );
        return null;
      }
      const stored: StoredSession = { cookie: cookie(), data: session.data };
      await call((done) => store.set(session.id, stored, done));
      return session.id;
    },
  };
}

test(
  "express-session MemoryStore: fails only the cases of overwrites",
  SLOW,
  async () => {
    assertVerdict(
      await failedRules({
        name: "express-session MemoryStore",
        create: ({ ttl }) =>
          fromExpressStore(new expressSession.MemoryStore(), ttl),
        ttl: 0.5,
      }),
      overwrites,
    );
  },
);
