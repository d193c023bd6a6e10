// Destroy: a destroyed session clears the client's cookie and its data, and
// the client carries on with a new session.

import {
  assert,
  assertNewSession,
  readSession,
  request,
  type Rule,
  saveSession,
  store,
} from "./_harness.ts";

export const destroyRules: Rule[] = [
  {
    rule: "save returns an empty string for a destroyed session",
    cause: "save does not check session.destroyed, or answers null for it.",
    async check(storage) {
      const { cookie } = await store(storage, { user: "mj" });
      const logout = await request(storage, cookie, (session) => {
        session.destroy();
      });
      assert.equal(
        logout.saved,
        "",
        'save must resolve to "" so that the client\'s cookie is cleared',
      );
    },
  },
  {
    rule:
      "save returns an empty string for a session destroyed before it was ever saved",
    cause: "save does not check session.destroyed before its other checks.",
    async check(storage) {
      const session = await readSession(storage, null);
      session.set("user", "mj");
      session.destroy();
      assert.equal(await saveSession(storage, session), "");
    },
  },
  {
    rule: "after destroy, the client carries on with a new session",
    cause: "a later read reuses the destroyed session's id or data.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      const logout = await request(storage, first.cookie, (session) => {
        session.destroy();
      });
      assert.equal(logout.cookie, null, "the cookie is cleared");
      const next = await request(storage, logout.cookie, (session) => {
        assert.equal(session.size, 0, "the next request starts empty");
        session.set("theme", "dark");
      });
      assert.notEqual(next.session.id, first.session.id, "with a new id");
      const later = await readSession(storage, next.cookie);
      assert.equal(later.id, next.session.id);
      assert.equal(later.get("theme"), "dark");
      assert.equal(later.get("user"), undefined);
    },
  },
  {
    rule: "destroying one session leaves other sessions intact",
    cause:
      "destroy deletes more than the session's own record (a prefix, a whole table).",
    async check(storage) {
      const kept = await store(storage, { user: "ada" });
      const gone = await store(storage, { user: "mj" });
      await request(storage, gone.cookie, (session) => session.destroy());
      const again = await readSession(storage, kept.cookie);
      assert.equal(again.id, kept.session.id);
      assert.equal(again.get("user"), "ada");
    },
  },
  {
    serverSide: true,
    rule: "a destroyed session's old cookie reads as a new session",
    cause:
      'save answers "" for a destroyed session without deleting its record.',
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      await request(storage, first.cookie, (session) => session.destroy());
      const replay = await request(storage, first.cookie, (session) => {
        assertNewSession(
          session,
          first.cookie,
          "read of a destroyed session's cookie",
          first.session.id,
        );
        session.set("theme", "dark");
      });
      assert.equal(
        (await readSession(storage, replay.cookie)).get("theme"),
        "dark",
        "the new session works",
      );
    },
  },
  {
    serverSide: true,
    rule: "destroy() after regenerateId(true) deletes the original id too",
    cause:
      "save of a destroyed session deletes session.id but not session.deleteId.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      // regenerateId(true): after a plain regenerateId(), whether the
      // session asks its store to delete the original id is the session
      // class's business, not the store's.
      await request(storage, first.cookie, (session) => {
        session.regenerateId(true);
        session.destroy();
      });
      assertNewSession(
        await readSession(storage, first.cookie),
        first.cookie,
        "read of the original id of a session given a new id with " +
          "regenerateId(true), then destroyed",
        first.session.id,
      );
    },
  },
];
