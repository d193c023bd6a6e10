import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createSession,
  createSessionId,
  Session,
  type SessionData,
  type SessionValues,
} from "./session.ts";

/** What the next request sees: a store keeps `data` and reads it back. */
function nextRequest(session: Session): Session {
  return createSession(session.id, JSON.parse(JSON.stringify(session.data)));
}

describe("session", () => {
  it("session: set, get, has, unset and size follow the stored values", () => {
    const session = createSession();
    session.set("a", 1);
    session.set("b", "two");
    assert.equal(session.get("a"), 1);
    assert.equal(session.has("b"), true);
    assert.equal(session.size, 2);
    session.unset("a");
    assert.equal(session.has("a"), false);
    assert.equal(session.get("a"), undefined);
    assert.equal(session.size, 1);
  });

  it("session: setting null or undefined removes the key", () => {
    const session = createSession("id", [{ a: 1, b: 2 }, {}]);
    session.set("a", null);
    session.set("b", undefined);
    assert.equal(session.size, 0);
    assert.deepEqual(session.data, [{}, {}]);
  });

  it("session: a new session is clean and a change makes it dirty", () => {
    const session = createSession("id", [{ a: 1 }, {}]);
    assert.equal(session.dirty, false);
    session.set("a", 2);
    assert.equal(session.dirty, true);
  });

  it("session: a flash value is invisible in the request that sets it", () => {
    const session = createSession();
    session.flash("message", "saved");
    assert.equal(session.get("message"), undefined);
    assert.equal(session.has("message"), false);
    assert.deepEqual(session.data, [{}, { message: "saved" }]);
  });

  it("session: a flash value is visible in exactly the next request", () => {
    const setting = createSession();
    setting.flash("message", "saved");
    const next = nextRequest(setting);
    assert.equal(next.get("message"), "saved");
    assert.equal(next.size, 1);
    // The next request changes nothing, yet must be saved to drop the flash.
    assert.equal(next.dirty, true);
    assert.equal(nextRequest(next).get("message"), undefined);
  });

  it("session: a value and a flash value under one key count once in size", () => {
    const session = createSession("id", [{ k: 1 }, { k: 2 }]);
    assert.equal(session.get("k"), 1);
    assert.equal(session.size, 1);
  });

  it("session: regenerateId changes the id, keeps the data and deletes nothing", () => {
    const session = createSession("old", [{ userId: "mj" }, {}]);
    session.regenerateId();
    assert.notEqual(session.id, "old");
    assert.equal(session.get("userId"), "mj");
    assert.equal(session.deleteId, undefined);
    assert.equal(session.dirty, true);
  });

  it("session: regenerateId(true) marks the original id for deletion", () => {
    const session = createSession("old");
    session.regenerateId(true);
    assert.equal(session.deleteId, "old");
  });

  it("session: regenerating twice still deletes the original id", () => {
    const deleting = createSession("old");
    deleting.regenerateId(true);
    deleting.regenerateId(true);
    assert.equal(deleting.deleteId, "old");
    const thenKeeping = createSession("old");
    thenKeeping.regenerateId(true);
    thenKeeping.regenerateId();
    assert.equal(thenKeeping.deleteId, "old");
  });

  it("session: destroying a regenerated session deletes the original id", () => {
    const session = createSession("old", [{ userId: "mj" }, {}]);
    session.regenerateId();
    session.destroy();
    assert.equal(session.deleteId, "old");
  });

  it("session: a destroyed session reads as empty and refuses changes", () => {
    const session = createSession("id", [{ a: 1 }, { f: 2 }]);
    session.destroy();
    assert.equal(session.destroyed, true);
    assert.equal(session.get("a"), undefined);
    assert.equal(session.has("f"), false);
    assert.equal(session.size, 0);
    assert.deepEqual(session.data, [{}, {}]);
    for (
      const change of [
        () => session.set("a", 2),
        () => session.unset("a"),
        () => session.flash("f", 1),
        () => session.regenerateId(),
      ]
    ) {
      assert.throws(change, /session was destroyed/);
    }
  });

  it("session: set and flash refuse a value JSON would change or drop, naming the key and where in the value it is", () => {
    class Cart {
      items = [1];
    }
    const refused: Array<[unknown, RegExp]> = [
      [new Date(0), /the value is a Date/],
      [new Map([["a", 1]]), /the value is an object \(Map\)/],
      [new Set([1]), /the value is an object \(Set\)/],
      [new Cart(), /the value is an object \(Cart\)/],
      [NaN, /the value is NaN/],
      [-Infinity, /the value is -Infinity/],
      [() => 1, /the value is a function/],
      [Symbol("s"), /the value is a symbol/],
      [{ user: { since: new Date(0) } }, /the value at user\.since is a Date/],
      [{ score: [1, NaN] }, /the value at score\[1\] is NaN/],
      [[undefined], /the value at \[0\] is undefined/],
      [{ onClick() {} }, /the value at onClick is a function/],
    ];
    for (const [value, message] of refused) {
      const session = createSession();
      for (
        const change of [
          () => session.set("key", value),
          () => session.flash("key", value),
        ]
      ) {
        assert.throws(
          change,
          (error: Error) =>
            error instanceof TypeError &&
            message.test(error.message) &&
            /for key "key"/.test(error.message),
          String(message),
        );
      }
      assert.equal(session.dirty, false, "a refused value changes nothing");
      assert.deepEqual(session.data, [{}, {}]);
    }
  });

  it("session: set and flash take JSON data as it reads back: plain and prototype-less objects, arrays, properties that are undefined, and a flash of undefined flashes nothing", () => {
    const shared = { n: 1 };
    const bare = Object.assign(Object.create(null), { a: "b" });
    const value = {
      text: "t",
      count: -0.5,
      on: false,
      none: null,
      list: [1, "two", [3], { four: 4 }],
      bare,
      twice: [shared, shared],
      missing: undefined,
    };
    const session = createSession();
    session.set("value", value);
    session.flash("value", value);
    session.flash("nothing", undefined);
    const next = nextRequest(session);
    assert.deepEqual(next.get("value"), JSON.parse(JSON.stringify(value)));
    assert.equal(next.has("nothing"), false);
  });

  it("session: data returns copies that do not change the session", () => {
    const session = createSession("id", [{ a: 1 }, {}]);
    session.data[0].a = 2;
    assert.equal(session.get("a"), 1);
  });

  it("session: the objects it was created with stay the caller's: a change to either leaves the other as it was", () => {
    const values: Record<string, unknown> = { a: 1 };
    const flash: Record<string, unknown> = { f: 1 };
    const session = createSession("id", [values, flash]);
    values.a = 2;
    flash.f = 2;
    session.set("b", 3);
    assert.equal(session.get("a"), 1);
    assert.equal(session.get("f"), 1);
    assert.deepEqual(values, { a: 2 });
    assert.deepEqual(flash, { f: 2 });
  });

  it("session: inherited names such as toString are no values", () => {
    const session = createSession<Record<string, unknown>>("id", [
      { a: 1 },
      { f: 1 },
    ]);
    for (const key of ["toString", "constructor", "hasOwnProperty"]) {
      assert.equal(session.get(key), undefined);
      assert.equal(session.has(key), false);
    }
    assert.equal(session.size, 2);
  });

  it("session: __proto__ set, flashed and unset is plain data", () => {
    const session = createSession();
    session.set("__proto__", { polluted: true });
    session.flash("__proto__", 1);
    const [values, flash] = session.data;
    assert.equal(Object.getPrototypeOf(values), Object.prototype);
    assert.deepEqual(Object.keys(values), ["__proto__"]);
    assert.equal(JSON.stringify(flash), '{"__proto__":1}');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    session.unset("__proto__");
    assert.deepEqual(Object.keys(session.data[0]), []);
    assert.equal(session.get("__proto__"), undefined);
  });

  it("session: keys like __proto__ stay plain data", () => {
    const session = createSession(
      "id",
      JSON.parse('[{"__proto__": {"polluted": true}}, {}]'),
    );
    assert.deepEqual(session.get("__proto__"), { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(
      Object.getPrototypeOf(session.data[0]),
      Object.prototype,
    );
  });

  it("session: createSession without an id makes a new random one", () => {
    assert.notEqual(createSession().id, createSession().id);
    assert.equal(new Session("given").id, "given");
  });

  it("session: ids carry at least 128 random bits in cookie-safe characters", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const id = createSessionId();
      assert.match(id, /^[A-Za-z0-9_-]+$/);
      // base64url: 6 bits per character.
      assert.ok(id.length * 6 >= 128);
      ids.add(id);
    }
    assert.equal(ids.size, 1000);
  });

  it("session: changes lists the keys set and unset, the flash added and consumed, and regeneration", () => {
    const session = createSession<SessionValues, SessionValues>("id", [
      { a: 1, b: 2 },
      { note: "hi" },
    ]);
    session.set("a", 10);
    session.unset("b");
    session.set("c", 3);
    session.unset("c");
    session.flash("next", "soon");
    session.regenerateId();
    const changes = session.changes;
    assert.deepEqual([...changes.set], [["a", 10]]);
    assert.deepEqual([...changes.unset].sort(), ["b", "c"]);
    assert.deepEqual([...changes.flashed], [["next", "soon"]]);
    assert.deepEqual([...changes.consumedFlash], [["note", "hi"]]);
    assert.equal(changes.regenerated, true);
    assert.equal(changes.destroyed, false);
  });

  it("session: mergeOnto applies this request's changes onto a newer record and keeps the rest", () => {
    const session = createSession<SessionValues, SessionValues>("id", [
      { a: 1, b: 2 },
      { note: "hi" },
    ]);
    session.set("a", 10);
    session.unset("b");
    session.flash("next", "soon");
    // Another request saved in between: it set "other" and flashed "more".
    const newer: SessionData = [
      { a: 1, b: 2, other: true },
      { note: "hi", more: "yes" },
    ];
    assert.deepEqual(session.mergeOnto(newer), [
      { a: 10, other: true },
      { more: "yes", next: "soon" },
    ]);
    assert.deepEqual(newer[0], { a: 1, b: 2, other: true }, "not modified");
  });

  it("session: mergeOnto keeps a flash value another request put under a key this one consumed", () => {
    const session = createSession<SessionValues, SessionValues>("id", [
      {},
      { note: "first" },
    ]);
    session.set("seen", true);
    assert.deepEqual(session.mergeOnto([{}, { note: "second" }]), [
      { seen: true },
      { note: "second" },
    ]);
  });
});
