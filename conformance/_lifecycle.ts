// Lifecycle: a session is created, saved, read back and changed across
// requests, and `save` says what the client's cookie must become.

import assert from "node:assert/strict";
import { describeValue } from "../_describe.ts";
import {
  readSession,
  request,
  type Rule,
  saveChanged,
  saveSession,
  store,
} from "./_harness.ts";

// RFC 6265 cookie-octet: what a cookie value may hold without quoting.
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]$/;

export function lifecycleRules(cookieSafeValues: boolean): Rule[] {
  const rules: Rule[] = [
    {
      rule: "read(null) gives a new, empty session",
      cause:
        "read(null) returns a stored session (a fixed id, or the last one saved) instead of a new one.",
      async check(storage) {
        const empty = await readSession(storage, null);
        assert.equal(empty.size, 0, "a new session must hold no values");
        // Also once the store holds a session, which must stay out of reach.
        const { session: saved } = await store(storage, { user: "mj" });
        const session = await readSession(storage, null);
        assert.equal(session.size, 0, "a new session must hold no values");
        assert.notEqual(session.id, saved.id, "and must get an id of its own");
      },
    },
    {
      rule: "new sessions get different ids",
      cause:
        "ids come from a counter, a clock or a constant instead of a secure random source such as crypto.getRandomValues.",
      async check(storage) {
        const ids = new Set<string>();
        for (let i = 0; i < 20; i++) {
          ids.add((await readSession(storage, null)).id);
        }
        assert.equal(ids.size, 20, "20 calls to read(null) must give 20 ids");
      },
    },
    {
      rule: "save returns null for an untouched new session",
      cause:
        "save writes without checking whether the session changed, so every visitor gets a cookie.",
      async check(storage) {
        const session = await readSession(storage, null);
        assert.equal(
          await saveSession(storage, session),
          null,
          "a session nobody changed needs no cookie: save must resolve to null",
        );
      },
    },
    {
      rule: "save returns a non-empty string for a changed session",
      cause: "save checks the wrong flag, or resolves to null after writing.",
      async check(storage) {
        const session = await readSession(storage, null);
        session.set("user", "mj");
        await saveChanged(storage, session);
      },
    },
    {
      rule: "the value save returns reads back as the same id and data",
      cause:
        "read does not decode what save encoded, or looks up another key than the one save wrote.",
      async check(storage) {
        const { session, cookie } = await store(storage, {
          user: "mj",
          roles: ["admin"],
        });
        const again = await readSession(storage, cookie);
        assert.equal(again.id, session.id, "the id must survive a save");
        assert.equal(again.get("user"), "mj");
        assert.deepEqual(again.get("roles"), ["admin"]);
      },
    },
    {
      rule: "save returns null for a session read back and left untouched",
      cause:
        "save writes and answers a cookie on every request; answer null when nothing changed and no renewal is due.",
      async check(storage) {
        const { cookie } = await store(storage, { user: "mj" });
        const untouched = await request(storage, cookie);
        assert.equal(
          untouched.saved,
          null,
          "a request that changes nothing must leave the cookie as it is",
        );
        const later = await readSession(storage, cookie);
        assert.equal(later.get("user"), "mj", "the data must still be there");
      },
    },
    {
      rule: "reading a session twice gives the same id and data both times",
      cause:
        "read consumes or changes what it reads (a one-time read, a new id per read).",
      async check(storage) {
        const { session, cookie } = await store(storage, { user: "mj" });
        for (let i = 0; i < 2; i++) {
          const again = await readSession(storage, cookie);
          assert.equal(again.id, session.id, `read number ${i + 1}: same id`);
          assert.equal(
            again.get("user"),
            "mj",
            `read number ${i + 1}: same data`,
          );
        }
      },
    },
    {
      rule: "a counter counts 1, 2, 3 across requests and keeps its id",
      cause:
        "save does not replace the stored data, or the id changes on every save.",
      async check(storage) {
        const count = (session: { get(key: string): unknown }) =>
          Number(session.get("count") ?? 0);
        let cookie: string | null = null;
        let id: string | undefined;
        for (const expected of [1, 2, 3]) {
          const response = await request(storage, cookie, (session) => {
            session.set("count", count(session) + 1);
          });
          assert.equal(
            count(response.session),
            expected,
            `request ${expected} must count ${expected}`,
          );
          id ??= response.session.id;
          assert.equal(response.session.id, id, "the id must not change");
          assert.ok(response.cookie, "a changed session must give a cookie");
          cookie = response.cookie;
        }
        assert.equal(count(await readSession(storage, cookie)), 3);
      },
    },
    {
      rule: "unset removes a value for later requests",
      cause:
        "save merges the session into the stored values instead of replacing them.",
      async check(storage) {
        const first = await store(storage, { user: "mj", theme: "dark" });
        const second = await request(storage, first.cookie, (session) => {
          session.unset("user");
        });
        const third = await readSession(storage, second.cookie);
        assert.equal(third.get("user"), undefined, "the unset value is gone");
        assert.equal(third.has("user"), false);
        assert.equal(third.get("theme"), "dark", "other values stay");
      },
    },
    {
      rule: "a value replaced in a later request reads back replaced",
      cause: "save never overwrites a stored session (a write-if-absent).",
      async check(storage) {
        const first = await store(storage, { theme: "dark" });
        const second = await request(storage, first.cookie, (session) => {
          session.set("theme", "light");
        });
        assert.equal(
          (await readSession(storage, second.cookie)).get("theme"),
          "light",
        );
      },
    },
  ];
  if (cookieSafeValues) rules.push(cookieSafeRule);
  return rules;
}

const cookieSafeRule: Rule = {
  rule: "the value save returns is made of cookie-safe characters",
  cause:
    "the store writes JSON or raw text into the cookie; encode it as base64url.",
  async check(storage) {
    const { cookie } = await store(storage, { text: 'a b;c,d"e\\f é 😀' });
    const bad = [...cookie].findIndex((c) => !COOKIE_OCTETS.test(c));
    assert.ok(
      cookie !== "" && bad === -1,
      "with the cookieSafeValues option, the value save returns must go " +
        "into a Set-Cookie header as it is (RFC 6265 cookie-octets: no " +
        "spaces, quotes, commas, semicolons, backslashes or non-ASCII), but " +
        `the value, ${describeValue(cookie)}, holds ` +
        `${JSON.stringify([...cookie][bad])} at character ${bad + 1}. ` +
        "Usual cause: the store writes JSON into the cookie; encode it as " +
        "base64url.",
    );
  },
};
