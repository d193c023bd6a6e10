// Overlapping requests: requests on one session that read before another's
// save lands lose no update, a logout stays final (a regenerateId() does
// not bring it back), the old id of regenerateId(true) never comes back,
// and a flash value is consumed once.
// Left out for stores that keep the data in the cookie: there the browser
// holds the state, and the last response to arrive wins.
//
// Each rule plays many rounds, and the handlers wait a random moment
// between read and save, as a handler doing I/O would, so that saves land
// in many orders: a store that checks versions without atomicity fails
// one of them.

import { describeValue } from "../_describe.ts";
import {
  assert,
  assertNewSession,
  readSession,
  type Rule,
  saveChanged,
  saveSession,
  type Session,
  type SessionStorage,
  sleep,
  store,
} from "./_harness.ts";

/** Rounds of the rule on overlapping requests that set their own key. */
export const OWN_KEY_ROUNDS = 50;
/** Rounds of the logout and regenerateId(true) rules. */
export const RACE_ROUNDS = 200;
const OVERLAPPING = 10;
const IN_FLIGHT = 4;

/** Waits 0 to 2 ms, or only a turn of the event loop, at random. */
function handlerWork(): Promise<void> {
  const choice = Math.floor(Math.random() * 4);
  return choice === 0 ? Promise.resolve() : sleep(choice - 1);
}

/**
 * Starts IN_FLIGHT requests on `cookie`, the nth of which sets `seen<n>`;
 * their saves.
 */
function startInFlightSaves(
  storage: SessionStorage,
  cookie: string,
): Promise<string | null>[] {
  return Array.from({ length: IN_FLIGHT }, async (_, n) => {
    const session = await startRequest(storage, cookie);
    session.set(`seen${n}`, true);
    return saveSession(storage, session);
  });
}

/**
 * What each save answered, told by kind: a failure message never holds a
 * cookie value, which is a session id.
 */
function answers(saved: (string | null)[], loggedOut: string): string {
  return saved.map((answer) =>
    answer === loggedOut ? "the logged-out id" : describeValue(answer)
  ).join(", ");
}

/** Reads the session like one request, then lets it work a moment. */
async function startRequest(
  storage: SessionStorage,
  cookie: string,
): Promise<Session> {
  const session = await readSession(storage, cookie);
  await handlerWork();
  return session;
}

export const overlappingRules: Rule[] = [
  {
    rule:
      `${OVERLAPPING} overlapping requests that each set their own key lose no update, over ${OWN_KEY_ROUNDS} rounds`,
    cause:
      "save overwrites the whole record with what its request read: compare the record's version with the one read, and apply this request's changes onto a newer record (as the built-in server-side stores do).",
    async check(storage) {
      for (let round = 0; round < OWN_KEY_ROUNDS; round++) {
        const { cookie } = await store(storage, { round });
        await Promise.all(
          Array.from({ length: OVERLAPPING }, async (_, n) => {
            const session = await startRequest(storage, cookie);
            session.set(`key${n}`, n);
            assert.equal(
              await saveChanged(storage, session),
              cookie,
              `round ${round}: a save on an unchanged id answers that id`,
            );
          }),
        );
        const after = await readSession(storage, cookie);
        const lost = Array.from({ length: OVERLAPPING }, (_, n) => n)
          .filter((n) => after.get(`key${n}`) !== n);
        assert.deepEqual(
          lost,
          [],
          `round ${round}: every overlapping request's key must be kept; ` +
            `lost the keys of requests ${lost.join(", ")}. A save must apply ` +
            "its request's changes onto what another save wrote since its " +
            "read, not overwrite it",
        );
        assert.equal(after.get("round"), round, "the untouched key stays");
      }
    },
  },
  {
    rule:
      `a logout overlapped by ${IN_FLIGHT} in-flight saves is final, over ${RACE_ROUNDS} rounds`,
    cause:
      "save writes a record that was deleted since its read: a save whose record is gone must write nothing and answer null.",
    async check(storage) {
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const { cookie } = await store(storage, { user: "mj" });
        const inFlight = startInFlightSaves(storage, cookie);
        const logout = (async () => {
          const session = await startRequest(storage, cookie);
          session.destroy();
          return saveSession(storage, session);
        })();
        const [cleared, ...saved] = await Promise.all([logout, ...inFlight]);
        assert.equal(cleared, "", "the logout clears the cookie");
        const after = await readSession(storage, cookie);
        assert.ok(
          after.id !== cookie && after.size === 0,
          `round ${round}: after a logout, the old cookie must read as a ` +
            `new, empty session, but it reads ${after.size} value(s) ` +
            `(in-flight saves answered: ${answers(saved, cookie)}). A save ` +
            "whose record was deleted since its read must write nothing",
        );
      }
    },
  },
  {
    rule:
      `the old id of regenerateId(true) never returns, though ${IN_FLIGHT} in-flight saves carry it, over ${RACE_ROUNDS} rounds`,
    cause:
      "save writes back under an id that regenerateId(true) moved since its read: a save whose record is gone must write nothing.",
    async check(storage) {
      for (let round = 0; round < RACE_ROUNDS; round++) {
        const { cookie } = await store(storage, { visit: round });
        const inFlight = startInFlightSaves(storage, cookie);
        const login = (async () => {
          const session = await startRequest(storage, cookie);
          session.set("user", "mj");
          session.regenerateId(true);
          return saveChanged(storage, session);
        })();
        const [newId, ...saved] = await Promise.all([login, ...inFlight]);
        const old = await readSession(storage, cookie);
        assert.ok(
          old.id !== cookie && old.size === 0,
          `round ${round}: the id regenerateId(true) replaced must read as ` +
            `a new, empty session, but it reads ${old.size} value(s). A ` +
            "save whose record was moved since its read must write nothing",
        );
        const moved = await readSession(storage, newId);
        assert.equal(moved.get("user"), "mj", `round ${round}: the login`);
        assert.equal(moved.get("visit"), round, `round ${round}: the visit`);
        saved.forEach((answer, n) => {
          // A save that answered the old id landed before the login, which
          // must then have carried its change to the new id. (One that read
          // after the login got a new session of its own: null, or a new id.)
          if (answer !== cookie) return;
          assert.equal(
            moved.get(`seen${n}`),
            true,
            `round ${round}: in-flight save ${n} answered the old id, so ` +
              "its change must be in the moved session",
          );
        });
      }
    },
  },
  {
    rule:
      `a flash value read by ${IN_FLIGHT} overlapping requests is consumed once, and one they flash survives, over ${OWN_KEY_ROUNDS} rounds`,
    cause:
      "a save writes back the flash values it read, or drops the ones another request set: merge the request's flash changes onto the newer record.",
    async check(storage) {
      for (let round = 0; round < OWN_KEY_ROUNDS; round++) {
        const first = await readSession(storage, null);
        first.flash("message", `saved ${round}`);
        const cookie = await saveChanged(storage, first);
        // All read before any saves, so all see the flash value.
        const sessions = await Promise.all(
          Array.from({ length: IN_FLIGHT }, () => readSession(storage, cookie)),
        );
        const seen = await Promise.all(
          sessions.map(async (session, n) => {
            await handlerWork();
            const message = session.get("message");
            if (n === 0) session.flash("next", round);
            else session.set(`key${n}`, n);
            await saveSession(storage, session);
            return message;
          }),
        );
        assert.deepEqual(
          seen,
          Array(IN_FLIGHT).fill(`saved ${round}`),
          `round ${round}: requests that read before any save all see the ` +
            "flash value",
        );
        const after = await readSession(storage, cookie);
        assert.equal(
          after.get("message"),
          undefined,
          `round ${round}: a flash value consumed by overlapping requests ` +
            "must be gone for the request after them",
        );
        assert.equal(
          after.get("next"),
          round,
          `round ${round}: a flash value one overlapping request set must ` +
            "reach the next request",
        );
        for (let n = 1; n < IN_FLIGHT; n++) {
          assert.equal(after.get(`key${n}`), n, `round ${round}: key${n}`);
        }
      }
    },
  },
  {
    rule:
      "a save after regenerateId() carries over what another request saved under the old id since its read",
    cause:
      "save writes a session given a new id by regenerateId() as its request read it: start from the old id's record as it is now.",
    async check(storage) {
      const { cookie } = await store(storage, { user: "mj" });
      const login = await readSession(storage, cookie);
      const other = await readSession(storage, cookie);
      other.set("cart", 1);
      await saveChanged(storage, other);
      login.regenerateId();
      login.set("seen", true);
      const moved = await readSession(
        storage,
        await saveChanged(storage, login),
      );
      assert.equal(moved.get("cart"), 1, "the change saved under the old id");
      assert.equal(moved.get("seen"), true, "the change of the request itself");
    },
  },
  {
    rule:
      "a save after regenerateId() writes nothing once another request destroyed the session",
    cause:
      "save writes a session given a new id by regenerateId() without looking at the old id's record: when it is gone, write nothing and answer null.",
    async check(storage) {
      const { cookie } = await store(storage, { user: "mj" });
      const late = await readSession(storage, cookie);
      const logout = await readSession(storage, cookie);
      logout.destroy();
      assert.equal(await saveSession(storage, logout), "");
      late.regenerateId();
      late.set("seen", true);
      assert.equal(
        await saveSession(storage, late),
        null,
        "save of a session that another request destroyed since its read",
      );
      assertNewSession(
        await readSession(storage, late.id),
        late.id,
        "read of the id regenerateId() gave a session destroyed meanwhile",
      );
    },
  },
];
