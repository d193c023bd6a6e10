// Flash: a value flashed in one request is read in exactly the next one.

import { assert, readSession, request, type Rule } from "./_harness.ts";

export const flashRules: Rule[] = [
  {
    rule: "a flash value is visible in the next request",
    cause:
      "save drops the flash values for the next request (session.data[1] in @x/session), or read does not hand them to the session.",
    async check(storage) {
      const submit = await request(storage, null, (session) => {
        session.flash("message", "Saved!");
      });
      assert.ok(submit.cookie, "a session with a flash value must be saved");
      const next = await request(storage, submit.cookie);
      assert.equal(next.session.get("message"), "Saved!");
    },
  },
  {
    rule: "a flash value is gone in the request after the next one",
    cause:
      "the flash values read are written back, or a session whose only change is that it read them is not written (check session.dirty, not the values changed); save must store only those set in this request.",
    async check(storage) {
      let cookie: string | null = null;
      const seen: unknown[] = [];
      for (let i = 0; i < 4; i++) {
        const response = await request(storage, cookie, (session) => {
          if (i === 0) session.flash("message", "Saved!");
          seen.push(session.get("message"));
        });
        cookie = response.cookie;
      }
      assert.deepEqual(
        seen,
        [undefined, "Saved!", undefined, undefined],
        "flashed in request 1, the message must be seen in request 2 only, " +
          "not in the request that sets it, nor after",
      );
    },
  },
  {
    rule: "flash values and regular values live side by side",
    cause:
      "values and flash values share one map, so one overwrites the other.",
    async check(storage) {
      const submit = await request(storage, null, (session) => {
        session.set("user", "mj");
        session.flash("message", "Welcome");
      });
      const next = await request(storage, submit.cookie);
      assert.equal(next.session.get("user"), "mj");
      assert.equal(next.session.get("message"), "Welcome");
      const after = await readSession(storage, next.cookie);
      assert.equal(after.get("user"), "mj", "the regular value stays");
      assert.equal(after.get("message"), undefined, "the flash value is gone");
    },
  },
  {
    rule: "a flash value set again in the next request is seen once more",
    cause:
      "the store keeps the flash value it read instead of the one set in this request.",
    async check(storage) {
      const first = await request(storage, null, (session) => {
        session.flash("message", "one");
      });
      const second = await request(storage, first.cookie, (session) => {
        assert.equal(session.get("message"), "one");
        session.flash("message", "two");
      });
      const third = await request(storage, second.cookie);
      assert.equal(third.session.get("message"), "two");
      const fourth = await readSession(storage, third.cookie);
      assert.equal(fourth.get("message"), undefined);
    },
  },
  {
    rule: "a flash value set before regenerateId() is seen under the new id",
    cause:
      "save writes the flash values under the old id, or drops them when the id changes.",
    async check(storage) {
      const first = await request(storage, null, (session) => {
        session.set("user", "mj");
      });
      const login = await request(storage, first.cookie, (session) => {
        session.flash("message", "Logged in");
        session.regenerateId();
      });
      const next = await readSession(storage, login.cookie);
      assert.equal(next.id, login.session.id);
      assert.equal(next.get("message"), "Logged in");
    },
  },
];
