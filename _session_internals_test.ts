import { test } from "node:test";
import assert from "node:assert/strict";
import { adoptSession, SessionMemo } from "./_session_internals.ts";
import { createSession, Session, type SessionData } from "./session.ts";

interface Memo {
  owner: SessionMemo<Memo>;
  read: number;
}

test("session internals: adoptSession gives a Session of the id holding the data objects themselves, not copies", () => {
  const data: SessionData = [{ n: 1 }, { message: "hi" }];
  const session = adoptSession("the-id", data);
  assert.ok(session instanceof Session);
  assert.equal(session.id, "the-id");
  assert.equal(session.get("message"), "hi");
  data[0].n = 2;
  data[1].message = "changed";
  assert.equal(session.get("n"), 2);
  assert.equal(session.get("message"), "changed");
});

test("session internals: after adoptSession, a session created the public way copies its data again", () => {
  adoptSession("adopted", [{}, {}]);
  const data: SessionData = [{ n: 1 }, { message: "hi" }];
  const session = new Session("copied", data);
  data[0].n = 2;
  data[1].message = "changed";
  assert.equal(session.get("n"), 1);
  assert.equal(session.get("message"), "hi");
});

test("session internals: SessionMemo remembers nothing of a session it was not given, even one of the same id and data", () => {
  const memo = new SessionMemo<Memo>();
  const session = createSession("id", [{ n: 1 }, {}]);
  assert.equal(memo.get(session), undefined);
  memo.set(session, { owner: memo, read: 1 });
  // The next request reads the same record into a new Session.
  assert.equal(memo.get(createSession("id", [{ n: 1 }, {}])), undefined);
  assert.equal(memo.get(adoptSession("id", [{ n: 1 }, {}])), undefined);
});

test("session internals: SessionMemo returns the very object it was given, so that an owner can update it in place", () => {
  const memo = new SessionMemo<Memo>();
  const session = createSession();
  const remembered = { owner: memo, read: 1 };
  memo.set(session, remembered);
  assert.equal(memo.get(session), remembered);
});

test("session internals: SessionMemo keeps one memo per storage for a session two storages handle", () => {
  const first = new SessionMemo<Memo>();
  const second = new SessionMemo<Memo>();
  const third = new SessionMemo<Memo>();
  const session = createSession();
  first.set(session, { owner: first, read: 1 });
  assert.equal(second.get(session), undefined);
  second.set(session, { owner: second, read: 2 });
  third.set(session, { owner: third, read: 3 });
  assert.equal(first.get(session)?.read, 1);
  assert.equal(second.get(session)?.read, 2);
  assert.equal(third.get(session)?.read, 3);
});

test("session internals: SessionMemo forgets a session's earlier memo when given a new one, whether it holds the session's slot or not", () => {
  const first = new SessionMemo<Memo>();
  const second = new SessionMemo<Memo>();
  const session = createSession();
  first.set(session, { owner: first, read: 1 });
  second.set(session, { owner: second, read: 2 });
  first.set(session, { owner: first, read: 3 });
  second.set(session, { owner: second, read: 4 });
  assert.equal(first.get(session)?.read, 3);
  assert.equal(second.get(session)?.read, 4);
});

test("session internals: SessionMemo remembers an object that is no Session, such as a session of another copy of the module", () => {
  const memo = new SessionMemo<Memo>();
  const foreign = { id: "id", data: [{}, {}] } as unknown as Session;
  assert.equal(memo.get(foreign), undefined);
  memo.set(foreign, { owner: memo, read: 1 });
  assert.equal(memo.get(foreign)?.read, 1);
  assert.equal(memo.get({} as Session), undefined);
});

test("session internals: what SessionMemo remembers is not visible on the session", () => {
  const memo = new SessionMemo<Memo>();
  const session = createSession("id", [{ n: 1 }, {}]);
  const before = [Reflect.ownKeys(session), JSON.stringify(session)];
  memo.set(session, { owner: memo, read: 123456789 });
  assert.deepEqual([Reflect.ownKeys(session), JSON.stringify(session)], before);
  assert.deepEqual(session.data, [{ n: 1 }, {}]);
});
