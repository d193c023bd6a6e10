// The per-user session index, for stores created with `indexBy`: a user's
// live sessions are listed once each, by a handle that is not the id, and
// can be ended, all but one or one by one; the index follows logins,
// logouts, changes of user, regeneration, expiry and overlapping requests.

import type { SessionIndex } from "../session.ts";
import { describeValue } from "../_describe.ts";
import {
  assert,
  assertNewSession,
  now,
  readSession,
  request,
  type Session,
  type SessionStorage,
  sleepUntil,
} from "./_harness.ts";
import {
  type Open,
  type OpeningCase,
  openingCases,
  TIMEOUT_MS,
} from "./_lifetime.ts";
import { EXPIRY_ATTEMPTS, toleranceFor } from "./_expiry.ts";
import type {
  SessionStorageLike,
  SessionStorageTestCase,
  SessionStorageTestOptions,
} from "./mod.ts";

/** A storage with the per-user index, as the cases use it. */
interface Indexed extends SessionStorage, SessionIndex<Session> {}

const INDEX_BY = "userId";

/** Opens a storage created with `indexBy`, checking it has the index. */
async function openIndexed(
  open: Open,
  options: { ttl?: number } = {},
): Promise<Indexed> {
  const storage = await open({ ...options, indexBy: INDEX_BY });
  const methods = ["listSessions", "destroySessions", "destroySession"];
  for (const method of [...methods, "handleOf"]) {
    assert.equal(
      typeof (storage as unknown as Record<string, unknown>)[method],
      "function",
      `a store created with { indexBy: "${INDEX_BY}" } must have a ` +
        `${method} method`,
    );
  }
  return storage as Indexed;
}

/** A new session logged in as `user`; its cookie and session. */
async function logIn(storage: Indexed, user: string | number) {
  const { session, cookie } = await request(storage, null, (s) => {
    s.set(INDEX_BY, user);
  });
  assert.ok(cookie, "a logged-in session gets a cookie");
  return { session, cookie };
}

async function handles(storage: Indexed, user: string | number) {
  const listed = await storage.listSessions(user);
  return listed.map((entry) => entry.handle).sort();
}

/** Asserts the session behind `cookie` is gone; `why` says what ended it. */
async function assertEnded(storage: Indexed, cookie: string, why: string) {
  assertNewSession(await readSession(storage, cookie), cookie, why);
}

async function assertAlive(storage: Indexed, cookie: string, why: string) {
  assert.notEqual(
    (await readSession(storage, cookie)).get(INDEX_BY),
    undefined,
    `${why}: the session lost its data`,
  );
}

const handleOf = (storage: Indexed, session: Session) =>
  storage.handleOf(session);

/** The index cases, for stores whose options say `index: true`. */
export function indexCases<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): SessionStorageTestCase[] {
  const { ttl } = options;
  if (options.index !== undefined && typeof options.index !== "boolean") {
    throw new TypeError(
      'testSessionStorage: option "index" must be true or false, got ' +
        `${describeValue(options.index)}.`,
    );
  }
  if (!options.index) return [];
  const cases: Omit<OpeningCase, "topic">[] = [
    {
      rule:
        "listSessions lists each live session of a user once, with its times, by a handle that is not its id",
      cause:
        "listSessions lists ids, or one entry per index write instead of per session; list handles (a hash of the id), one per live session.",
      async body(open) {
        const storage = await openIndexed(open);
        const start = Date.now();
        const laptop = await logIn(storage, "ann");
        const phone = await logIn(storage, "ann");
        await logIn(storage, "bob");
        await request(storage, null, (s) => s.set("theme", "dark"));
        const listed = await storage.listSessions("ann");
        assert.equal(
          listed.length,
          2,
          `ann has two sessions, but listSessions gives ${listed.length}`,
        );
        assert.deepEqual(
          listed.map((entry) => entry.handle).sort(),
          [handleOf(storage, laptop.session), handleOf(storage, phone.session)]
            .sort(),
          "the listed handles are those handleOf gives the sessions",
        );
        for (const entry of listed) {
          assert.equal(
            typeof entry.handle,
            "string",
            `a listed handle must be a string, got ${
              describeValue(entry.handle)
            }`,
          );
          for (const id of [laptop.cookie, phone.cookie]) {
            assert.ok(
              !entry.handle.includes(id),
              "a handle must not hold the session id: an id is a bearer " +
                "credential",
            );
          }
          for (const time of [entry.createdAt, entry.lastSeenAt]) {
            assert.ok(
              typeof time === "number" && time >= start - 1000 &&
                time <= Date.now() + 1000,
              `createdAt and lastSeenAt are Unix ms of the saves, got ${time}`,
            );
          }
          assert.ok(
            entry.lastSeenAt! >= entry.createdAt!,
            "lastSeenAt must not be before createdAt",
          );
          assert.equal(entry.expiresAt, null, "no ttl: no expiry");
        }
        const bob = (await storage.listSessions("bob")).length;
        assert.equal(
          bob,
          1,
          `bob has one session, but listSessions gives ${bob}`,
        );
        assert.deepEqual(
          await storage.listSessions("nobody"),
          [],
          "a user who never logged in has no session listed",
        );
      },
    },
    {
      rule:
        "a session that logs out, changes user or regenerates its id is listed as it is now",
      cause:
        "the index is trusted as it is: check each entry against its record when listing, and drop the entries whose record is gone or names another user.",
      async body(open) {
        const storage = await openIndexed(open);
        const leaving = await logIn(storage, "ann");
        const switching = await logIn(storage, "ann");
        const moving = await logIn(storage, "ann");
        await request(storage, leaving.cookie, (s) => s.destroy());
        await request(storage, switching.cookie, (s) => s.set(INDEX_BY, "bob"));
        const moved = await request(storage, moving.cookie, (s) => {
          s.regenerateId(true);
        });
        assert.deepEqual(
          await handles(storage, "ann"),
          [handleOf(storage, moved.session)],
          "ann's only session is the regenerated one, under its new handle",
        );
        assert.deepEqual(
          await handles(storage, "bob"),
          [handleOf(storage, await readSession(storage, switching.cookie))],
          "the session that changed user is listed under bob",
        );
        await request(storage, moved.cookie, (s) => s.unset(INDEX_BY));
        assert.deepEqual(await handles(storage, "ann"), [], "ann logged out");
      },
    },
    {
      rule:
        "destroySessions ends every session of the user but the one kept, and says how many",
      cause:
        "destroySessions deletes index entries but not the records, or ends the session it was told to keep.",
      async body(open) {
        const storage = await openIndexed(open);
        const kept = await logIn(storage, "ann");
        const others = [
          await logIn(storage, "ann"),
          await logIn(storage, "ann"),
        ];
        const bob = await logIn(storage, "bob");
        const current = await readSession(storage, kept.cookie);
        const ended = await storage.destroySessions("ann", {
          except: current,
        });
        assert.equal(
          ended,
          2,
          "destroySessions must say it ended ann's 2 other sessions, got " +
            describeValue(ended),
        );
        await assertAlive(storage, kept.cookie, "the session kept");
        for (const other of others) {
          await assertEnded(storage, other.cookie, "destroySessions");
        }
        await assertAlive(storage, bob.cookie, "another user's session");
        assert.deepEqual(
          await handles(storage, "ann"),
          [handleOf(storage, kept.session)],
          "ann's only session listed is the one kept",
        );
        // By handle, and with nothing kept.
        const another = await logIn(storage, "ann");
        assert.equal(
          await storage.destroySessions("ann", {
            except: handleOf(storage, another.session),
          }),
          1,
          "destroySessions, keeping a session by its handle, must say it " +
            "ended 1",
        );
        await assertEnded(storage, kept.cookie, "destroySessions by handle");
        assert.equal(
          await storage.destroySessions("ann"),
          1,
          "destroySessions with none kept must say it ended ann's last session",
        );
        await assertEnded(storage, another.cookie, "destroySessions");
        assert.equal(
          await storage.destroySessions("ann"),
          0,
          "destroySessions of a user with no session left must say it ended 0",
        );
      },
    },
    {
      rule:
        "destroySession ends one session by its handle, and never another user's",
      cause:
        "destroySession looks the handle up in every user's sessions instead of the given user's.",
      async body(open) {
        const storage = await openIndexed(open);
        const ann = await logIn(storage, "ann");
        const annToo = await logIn(storage, "ann");
        const bob = await logIn(storage, "bob");
        const bobHandle = handleOf(storage, bob.session);
        assert.equal(
          await storage.destroySession("ann", bobHandle),
          false,
          "ann cannot end bob's session with its handle",
        );
        await assertAlive(
          storage,
          bob.cookie,
          "a handle given for another user",
        );
        assert.equal(
          await storage.destroySession(
            "ann",
            handleOf(storage, annToo.session),
          ),
          true,
          "destroySession must answer true when it ends a session",
        );
        await assertEnded(storage, annToo.cookie, "destroySession");
        await assertAlive(storage, ann.cookie, "the other session of the user");
        assert.equal(
          await storage.destroySession(
            "ann",
            handleOf(storage, annToo.session),
          ),
          false,
          "a session ended already",
        );
      },
    },
    {
      rule:
        "a number user value is indexed, apart from the same digits as a string",
      cause:
        'the user value is turned into a string before it is indexed, so 42 and "42" share an index.',
      async body(open) {
        const storage = await openIndexed(open);
        const number = await logIn(storage, 42);
        await logIn(storage, "42");
        assert.deepEqual(
          await handles(storage, 42),
          [handleOf(storage, number.session)],
          "the number 42 lists only the session logged in as 42",
        );
        const digits = (await storage.listSessions("42")).length;
        assert.equal(
          digits,
          1,
          `the string "42" has one session, but listSessions gives ${digits}`,
        );
      },
    },
    {
      rule:
        "sessions logged in at once are all listed, and logouts that overlap other requests stay final",
      cause:
        "index writes overwrite each other (a read-modify-write of one list), or a save writes back a session that was destroyed while it ran.",
      async body(open) {
        const storage = await openIndexed(open);
        const logins = await Promise.all(
          Array.from({ length: 10 }, () => logIn(storage, "ann")),
        );
        const listed = (await storage.listSessions("ann")).length;
        assert.equal(
          listed,
          10,
          `10 sessions logged in at once must all be listed, but ` +
            `listSessions gives ${listed}`,
        );
        // Each session: a logout and a request that changes something, at
        // once, both reading before either saves.
        await Promise.all(
          logins.slice(0, 5).map(async ({ cookie }) => {
            const [out, busy] = await Promise.all([
              readSession(storage, cookie),
              readSession(storage, cookie),
            ]);
            out.destroy();
            busy.set("theme", "dark");
            await Promise.all([storage.save(out), storage.save(busy)]);
          }),
        );
        assert.equal(
          (await storage.listSessions("ann")).length,
          5,
          "a session logged out while another request saved it is not listed",
        );
        // Ending the others while they are being saved.
        const current = await readSession(storage, logins[9].cookie);
        const saving = logins.slice(5, 9).map(async ({ cookie }) => {
          const session = await readSession(storage, cookie);
          session.set("visits", 1);
          return storage.save(session);
        });
        const [ended] = await Promise.all([
          storage.destroySessions("ann", { except: current }),
          ...saving,
        ]);
        assert.ok(
          typeof ended === "number" && ended <= 4,
          "destroySessions during 4 saves must say how many it ended, at " +
            `most 4, got ${describeValue(ended)}`,
        );
        for (const { cookie } of logins.slice(5, 9)) {
          await assertEnded(storage, cookie, "destroySessions during a save");
        }
        assert.deepEqual(
          await handles(storage, "ann"),
          [handleOf(storage, current)],
          "ann's only session listed is the one kept",
        );
      },
    },
  ];
  if (ttl !== undefined) {
    const ttlMs = ttl * 1000;
    const tolerance = toleranceFor(ttlMs);
    cases.push({
      rule:
        "a session past its ttl is not listed, and one in use shows its new expiry",
      cause:
        "listing returns the index entries without checking that their sessions are still live.",
      timeout: TIMEOUT_MS + EXPIRY_ATTEMPTS * 1.5 * ttlMs,
      async body(open) {
        const storage = await openIndexed(open, { ttl });
        // A store may end a session up to `tolerance` before or after its
        // ttl: an attempt the machine was too slow for to tell is played
        // again, with another user, instead of blaming the store.
        for (let attempt = 1; attempt <= EXPIRY_ATTEMPTS; attempt++) {
          const user = `ann${attempt}`;
          const idle = await logIn(storage, user);
          const idleSaved = now();
          const busy = await logIn(storage, user);
          const handle = handleOf(storage, busy.session);
          const before = (await storage.listSessions(user)).find((entry) =>
            entry.handle === handle
          )?.expiresAt;
          assert.ok(
            typeof before === "number" && before > Date.now(),
            "under a ttl, a listed session has an expiry to come",
          );
          await sleepUntil(idleSaved + ttlMs * 0.6);
          const used = now();
          await request(storage, busy.cookie, (s) => s.set("visits", 2));
          // Past the idle session's ttl and tolerance, within the busy one's.
          await sleepUntil(idleSaved + ttlMs + tolerance + 1);
          const listed = await storage.listSessions(user);
          const listedBy = now();
          if (
            used - idleSaved >= ttlMs - tolerance ||
            listedBy - used >= ttlMs - tolerance
          ) {
            continue;
          }
          assert.deepEqual(
            listed.map((entry) => entry.handle),
            [handle],
            `${user}'s session unused for ${ttl} s and more, with a ttl of ` +
              `${ttl} s, is not listed; the one used is`,
          );
          const after = listed[0].expiresAt;
          assert.ok(
            typeof after === "number" && after > before,
            "the session in use is listed with the later expiry its use " +
              `gave it (before ${describeValue(before)}, after ` +
              `${describeValue(after)})`,
          );
          await assertEnded(storage, idle.cookie, "the ttl");
          return;
        }
        assert.fail(
          `the machine was too slow to check this rule with a ttl of ${ttl} ` +
            `s in ${EXPIRY_ATTEMPTS} attempts: pass a larger "ttl" option.`,
        );
      },
    });
  }
  return openingCases(
    options,
    cases.map((c) => ({ ...c, topic: "per-user index" })),
  );
}
