// Fixation and regeneration: a client cannot choose its session id, and
// regenerateId() moves a session to a new id, deleting the old one on
// request.

import { createSessionId } from "../session.ts";
import {
  assert,
  assertNewSession,
  readSession,
  request,
  type Rule,
  saveChanged,
  store,
} from "./_harness.ts";

export const fixationRules: Rule[] = [
  {
    rule: "a cookie value no save returned is never adopted as the id",
    cause:
      "read passes the client's value to createSession when it finds nothing (useUnknownIds on by default).",
    async check(storage) {
      for (const planted of ["attacker-chosen-id", createSessionId()]) {
        const session = await readSession(storage, planted);
        assertNewSession(session, planted, "read of a planted value");
        session.set("user", "mj");
        const saved = await saveChanged(storage, session);
        assert.notEqual(
          saved,
          planted,
          "save must not answer the planted value",
        );
      }
    },
  },
  {
    rule: "regenerateId() gives a new id and keeps the data",
    cause: "save writes under the id that was read instead of session.id.",
    async check(storage) {
      const index = await request(storage, null, (session) => {
        session.set("visits", 1);
      });
      const login = await request(storage, index.cookie, (session) => {
        session.set("userId", "mj");
        session.regenerateId();
      });
      assert.notEqual(login.session.id, index.session.id);
      assert.ok(login.saved, "a regenerated session must give a new cookie");
      const next = await readSession(storage, login.cookie);
      assert.equal(next.id, login.session.id, "the new id reads back");
      assert.equal(next.get("userId"), "mj");
      assert.equal(next.get("visits"), 1);
    },
  },
  {
    rule:
      "regenerateId() keeps the old id readable, with its old data, for clients that retry with it",
    cause:
      "save deletes the id it read even when the session asked for no deletion (session.deleteId is undefined).",
    async check(storage) {
      const index = await request(storage, null, (session) => {
        session.set("visits", 1);
      });
      await request(storage, index.cookie, (session) => {
        session.set("userId", "mj");
        session.regenerateId();
      });
      const retry = await readSession(storage, index.cookie);
      assert.equal(retry.id, index.session.id, "the old id still reads");
      assert.equal(retry.get("visits"), 1, "with the data saved under it");
      assert.equal(
        retry.get("userId"),
        undefined,
        "the data saved under the new id must not show under the old one",
      );
    },
  },
  {
    rule: "regenerateId(true) keeps the data under the new id",
    cause:
      "save writes under the old id, or deletes session.deleteId after writing.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      const login = await request(storage, first.cookie, (session) => {
        session.regenerateId(true);
      });
      assert.ok(login.saved, "a regenerated session must give a new cookie");
      const next = await readSession(storage, login.cookie);
      assert.equal(next.id, login.session.id);
      assert.notEqual(next.id, first.session.id);
      assert.equal(next.get("user"), "mj");
    },
  },
  // A store that holds the data server-side can refuse ids it never issued
  // and delete old ones; a cookie store can do neither.
  {
    serverSide: true,
    rule: "an id the store does not hold is never adopted, even after a save",
    cause:
      "read adopts an unknown id, or save writes under a cookie value it never issued.",
    async check(storage) {
      const planted = createSessionId();
      const session = await readSession(storage, planted);
      assertNewSession(session, planted, "read of an unknown id");
      session.set("user", "mj");
      await saveChanged(storage, session);
      assertNewSession(
        await readSession(storage, planted),
        planted,
        "read of the unknown id after another session was saved",
      );
    },
  },
  {
    serverSide: true,
    rule: "regenerateId(true) deletes the old session's data",
    cause: "save ignores session.deleteId.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      await request(storage, first.cookie, (session) => {
        session.regenerateId(true);
      });
      assertNewSession(
        await readSession(storage, first.cookie),
        first.cookie,
        "read of the id that regenerateId(true) replaced",
        first.session.id,
      );
    },
  },
  {
    serverSide: true,
    rule:
      "regenerateId(true) called twice in one request deletes the original id",
    cause:
      "save deletes the id of the last regeneration only; session.deleteId names the original id.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      const login = await request(storage, first.cookie, (session) => {
        session.regenerateId(true);
        session.regenerateId();
      });
      assertNewSession(
        await readSession(storage, first.cookie),
        first.cookie,
        "read of the original id",
        first.session.id,
      );
      assert.equal(
        (await readSession(storage, login.cookie)).get("user"),
        "mj",
      );
    },
  },
  {
    serverSide: true,
    rule:
      "regenerateId(true) after a save under a regenerateId() id in one request deletes the original id",
    cause:
      "save deletes the id it last wrote instead of session.deleteId, which names the original id.",
    async check(storage) {
      const first = await store(storage, { user: "mj" });
      const session = await readSession(storage, first.cookie);
      session.regenerateId();
      await saveChanged(storage, session);
      session.regenerateId(true);
      const cookie = await saveChanged(storage, session);
      assertNewSession(
        await readSession(storage, first.cookie),
        first.cookie,
        "read of the original id",
        first.session.id,
      );
      assert.equal((await readSession(storage, cookie)).get("user"), "mj");
    },
  },
];
