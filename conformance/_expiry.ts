// Expiry, for stores created with a ttl: an unused session expires, a
// session in use keeps living.
//
// Waits are short (a few ttls) and every check that needs "not yet
// expired" first verifies that the timing allowed it: on a machine so busy
// that a request took longer than the ttl leaves, the attempt is repeated
// (at most ATTEMPTS times) instead of blaming the store.

import type { SessionStorage } from "../session.ts";
import {
  assert,
  assertNewSession,
  now,
  readSession,
  request,
  type Rule,
  saveChanged,
  saveSession,
  sleep,
  sleepUntil,
  store,
} from "./_harness.ts";

const ATTEMPTS = 4;

/** Runs `attempt` until it reaches a verdict; `undefined` means "too slow to tell". */
async function withRetries(
  ttl: number,
  attempt: () => Promise<true | undefined>,
): Promise<void> {
  for (let i = 0; i < ATTEMPTS; i++) {
    if (await attempt()) return;
  }
  assert.fail(
    `the machine was too slow to check this rule with a ttl of ${ttl} s in ` +
      `${ATTEMPTS} attempts: pass a larger "ttl" option`,
  );
}

/** Times `action`: when it started and ended, in `now()` milliseconds. */
async function timed<T>(
  action: () => Promise<T>,
): Promise<{ value: T; start: number; end: number }> {
  const start = now();
  const value = await action();
  return { value, start, end: now() };
}

export function expiryRules(ttl: number): Rule[] {
  const ttlMs = ttl * 1000;
  // Slack for clocks that tick in whole milliseconds.
  const margin = Math.max(5, ttlMs * 0.05);

  async function expiresUnused(storage: SessionStorage): Promise<void> {
    const first = await timed(() => store(storage, { user: "mj" }));
    await sleepUntil(first.end + ttlMs * 1.5);
    const later = await request(storage, first.value.cookie, (session) => {
      assertNewSession(
        session,
        first.value.cookie,
        `read ${1.5 * ttl} s after a save, with a ttl of ${ttl} s`,
        first.value.session.id,
      );
      session.set("theme", "dark");
    });
    assert.equal(
      (await readSession(storage, later.cookie)).get("theme"),
      "dark",
      "the session that replaces an expired one works",
    );
  }

  return [
    {
      rule: "a session read back within its ttl keeps its data",
      ttl: true,
      async check(storage) {
        await withRetries(ttl, async () => {
          const first = await timed(() => store(storage, { user: "mj" }));
          // Not at once: a ttl misread as milliseconds passes in the same tick.
          await sleepUntil(first.end + ttlMs / 4);
          const read = await timed(() =>
            readSession(storage, first.value.cookie)
          );
          if (read.value.get("user") === "mj") return true;
          assert.ok(
            read.end - first.start >= ttlMs - margin,
            `a session read ${Math.round(read.end - first.start)} ms after ` +
              `its save, with a ttl of ${ttl} s, must still be there ` +
              "(is the ttl read as seconds?)",
          );
          return undefined;
        });
      },
    },
    {
      rule: "a session unused for longer than its ttl reads as a new session",
      ttl: true,
      check: expiresUnused,
    },
    {
      rule: "saving a changed session renews its ttl",
      ttl: true,
      async check(storage) {
        await withRetries(ttl, async () => {
          const first = await timed(() => store(storage, { count: 1 }));
          await sleepUntil(first.end + ttlMs * 0.6);
          const second = await timed(() =>
            readSession(storage, first.value.cookie)
          );
          if (second.value.get("count") !== 1) {
            if (second.end - first.start < ttlMs - margin) {
              assert.fail("the session expired before its ttl");
            }
            return undefined;
          }
          second.value.set("count", 2);
          const save = await timed(() => saveChanged(storage, second.value));
          // Past the expiry of the first save: only the renewal keeps it.
          await sleepUntil(first.end + ttlMs * 1.2);
          const third = await timed(() => readSession(storage, save.value));
          if (third.value.get("count") === 2) return true;
          assert.ok(
            third.end - save.start >= ttlMs - margin,
            `a session saved with a change ${
              Math.round(third.end - save.start)
            } ms before, with a ttl of ${ttl} s, must still be there: the ` +
              "save must renew the ttl",
          );
          return undefined;
        });
      },
    },
    {
      rule:
        "a session in use keeps living past its ttl, even when requests change nothing",
      ttl: true,
      async check(storage) {
        await withRetries(ttl, async () => {
          const first = await timed(() => store(storage, { user: "mj" }));
          let cookie = first.value.cookie;
          let lastSave = first.start;
          // Requests come every tenth of the ttl; after any save, a store
          // must hold the session for at least half the ttl.
          for (let step = 0; step < 100; step++) {
            await sleep(Math.ceil(ttlMs / 10));
            const read = await timed(() => readSession(storage, cookie));
            if (read.value.get("user") !== "mj") {
              assert.ok(
                read.end - lastSave >= ttlMs / 2 - margin,
                `a session read and saved every ${ttlMs / 10} ms expired ` +
                  `${Math.round(read.end - first.end)} ms after it was ` +
                  `created, with a ttl of ${ttl} s: a session in use, even ` +
                  "unchanged, must be renewed",
              );
              return undefined;
            }
            if (read.start > first.end + ttlMs * 1.5) return true;
            const save = await timed(() => saveSession(storage, read.value));
            if (save.value === "") {
              assert.fail('save of a live session gave ""');
            }
            if (save.value !== null) cookie = save.value;
            lastSave = save.start;
          }
          return undefined;
        });
      },
    },
  ];
}
