// Expiry, for stores created with a ttl: an unused session expires, a
// session in use keeps living.
//
// A store may end a session a little before or after its ttl: a clock that
// counts whole seconds, or an expiry rounded to one, is off by up to a
// second. The suite allows TOLERANCE either way, a fifth of the ttl at most
// one second, and judges only what the measured timings make certain: a
// check the machine was too slow to decide is repeated (at most EXPIRY_ATTEMPTS
// times) instead of blaming the store. Every failure prints the timings.

import {
  assert,
  assertNewSession,
  now,
  readSession,
  type Rule,
  saveChanged,
  saveSession,
  type SessionStorage,
  sleep,
  sleepUntil,
  store,
} from "./_harness.ts";

/** How many times a timed check is played before the machine is blamed. */
export const EXPIRY_ATTEMPTS = 4;

/** The tolerance, in milliseconds, for a ttl of `ttlMs`. */
export function toleranceFor(ttlMs: number): number {
  return Math.min(1000, ttlMs / 5);
}

const found = (key: string) => (session: { get(key: string): unknown }) =>
  session.get(key) === undefined ? "gone" : "found";

/** What one attempt did and when, for failure messages. */
class Timeline {
  #start = now();
  #events: string[] = [];
  #ttlMs: number;
  #toleranceMs: number;

  constructor(ttlMs: number, toleranceMs: number) {
    this.#ttlMs = ttlMs;
    this.#toleranceMs = toleranceMs;
  }

  /** Runs `action`, noting when it ran and what it found. */
  async time<T>(
    label: string,
    action: () => Promise<T>,
    outcome: (value: T) => string = () => "",
  ): Promise<{ value: T; start: number; end: number }> {
    const start = now();
    const value = await action();
    const end = now();
    const found = outcome(value);
    this.#events.push(
      `${label} ${this.#at(start)}-${this.#at(end)}${found && ` (${found})`}`,
    );
    return { value, start, end };
  }

  /** Saves a new session holding `values`, noting when. */
  store(storage: SessionStorage, values: Record<string, unknown>) {
    return this.time("save", () => store(storage, values));
  }

  /** Reads the session of `cookie`, noting when and whether `key` was found. */
  read(storage: SessionStorage, cookie: string, key: string) {
    return this.time("read", () => readSession(storage, cookie), found(key));
  }

  #at(time: number): number {
    return Math.round(time - this.#start);
  }

  /** The timings, as a line for a failure message. */
  toString(): string {
    return `Timings in ms from the first save: ${this.#events.join(", ")}; ` +
      `ttl ${this.#ttlMs} ms, a store may be off by ${this.#toleranceMs} ms ` +
      "either way.";
  }
}

export function expiryRules(ttl: number): Rule[] {
  const ttlMs = ttl * 1000;
  const tolerance = toleranceFor(ttlMs);
  const timeout = 60_000 + EXPIRY_ATTEMPTS * 2 * ttlMs;

  /** Runs `attempt` until it reaches a verdict; `undefined` means "too slow to tell". */
  async function withRetries(
    attempt: (timeline: Timeline) => Promise<true | undefined>,
  ): Promise<void> {
    let last: Timeline | undefined;
    for (let i = 0; i < EXPIRY_ATTEMPTS; i++) {
      last = new Timeline(ttlMs, tolerance);
      if (await attempt(last)) return;
    }
    assert.fail(
      `the machine was too slow to check this rule with a ttl of ${ttl} s ` +
        `in ${EXPIRY_ATTEMPTS} attempts: pass a larger "ttl" option. The last ` +
        `attempt: ${last}`,
    );
  }

  /** A rule whose check runs `attempt` until it reaches a verdict. */
  const retried = (
    rule: string,
    cause: string,
    attempt: (
      storage: SessionStorage,
      timeline: Timeline,
    ) => Promise<true | undefined>,
  ): Rule => ({
    rule,
    cause,
    ttl: true,
    timeout,
    check: (storage) => withRetries((timeline) => attempt(storage, timeline)),
  });

  return [
    retried(
      "a session read back within its ttl keeps its data",
      "the ttl is read as milliseconds (or as seconds where the " +
        "database expects milliseconds).",
      async (storage, timeline) => {
        const first = await timeline.store(storage, { user: "mj" });
        // Not at once: a ttl misread as milliseconds passes in the same
        // tick. Then again past half the ttl: a ttl halved is caught too.
        for (const wait of [ttlMs / 4, ttlMs * 0.6]) {
          await sleepUntil(first.end + wait);
          const read = await timeline.read(storage, first.value.cookie, "user");
          if (read.value.get("user") === "mj") continue;
          assert.ok(
            read.end - first.start > ttlMs - tolerance,
            `a session read ${Math.round(read.end - first.start)} ms ` +
              `after its save, with a ttl of ${ttl} s, must still be ` +
              `there. ${timeline}`,
          );
          return undefined;
        }
        return true;
      },
    ),
    {
      rule: "a session unused for longer than its ttl reads as a new session",
      cause: "the store ignores the ttl, or counts it in a larger unit " +
        "(seconds read as minutes).",
      ttl: true,
      timeout,
      async check(storage) {
        const timeline = new Timeline(ttlMs, tolerance);
        const first = await timeline.store(storage, { user: "mj" });
        await sleepUntil(first.end + ttlMs * 1.5);
        const later = await timeline.read(storage, first.value.cookie, "user");
        assertNewSession(
          later.value,
          first.value.cookie,
          `read ${Math.round(later.start - first.end)} ms after a save, ` +
            `with a ttl of ${ttl} s. ${timeline}`,
          first.value.session.id,
        );
        later.value.set("theme", "dark");
        const cookie = await saveChanged(storage, later.value);
        assert.equal(
          (await readSession(storage, cookie)).get("theme"),
          "dark",
          "the session that replaces an expired one works",
        );
      },
    },
    retried(
      "saving a changed session renews its ttl",
      "save keeps the expiry of the stored record instead of " +
        "counting the ttl again from now.",
      async (storage, timeline) => {
        const first = await timeline.store(storage, { count: 1 });
        await sleepUntil(first.end + ttlMs * 0.6);
        const second = await timeline.read(
          storage,
          first.value.cookie,
          "count",
        );
        if (second.value.get("count") !== 1) {
          assert.ok(
            second.end - first.start > ttlMs - tolerance,
            `the session expired before its ttl. ${timeline}`,
          );
          return undefined;
        }
        second.value.set("count", 2);
        const save = await timeline.time(
          "save of a change",
          () => saveChanged(storage, second.value),
        );
        // Past the expiry of the first save: only the renewal keeps it.
        await sleepUntil(first.end + ttlMs * 1.3);
        const third = await timeline.read(storage, save.value, "count");
        if (third.value.get("count") === 2) return true;
        assert.ok(
          third.end - save.start > ttlMs - tolerance,
          `a session saved with a change ${
            Math.round(third.end - save.start)
          } ms before, with a ttl of ${ttl} s, must still be there: the ` +
            `save must renew the ttl. ${timeline}`,
        );
        return undefined;
      },
    ),
    retried(
      "a session in use keeps living past its ttl, even when requests change nothing",
      "an unchanged session is never written again, so it expires " +
        "while in use: renew it when less than half of its ttl is left, " +
        "or on every save.",
      keepsLiving,
    ),
  ];

  /**
   * Requests come every tenth of the ttl, for one and a half ttls; after
   * any save, a store must hold the session for at least half the ttl.
   */
  async function keepsLiving(
    storage: SessionStorage,
    timeline: Timeline,
  ): Promise<true | undefined> {
    const first = await timeline.store(storage, { user: "mj" });
    let cookie = first.value.cookie;
    let lastSave = first.start;
    for (let step = 0; step < 100; step++) {
      await sleep(Math.ceil(ttlMs / 10));
      const read = await timeline.read(storage, cookie, "user");
      if (read.value.get("user") !== "mj") {
        assert.ok(
          read.end - lastSave >= ttlMs / 2 - tolerance,
          `a session read and saved unchanged every ${ttlMs / 10} ms ` +
            `expired ${Math.round(read.end - lastSave)} ms after the last ` +
            `save, with a ttl of ${ttl} s: a session in use, even unchanged, ` +
            `must be renewed. ${timeline}`,
        );
        return undefined;
      }
      if (read.start > first.end + ttlMs * 1.5) return true;
      const save = await timeline.time(
        "save",
        () => saveSession(storage, read.value),
        (saved) => saved === null ? "null" : "written",
      );
      if (save.value === "") {
        assert.fail(`save of a live session gave "". ${timeline}`);
      }
      if (save.value !== null) cookie = save.value;
      lastSave = save.start;
    }
    return undefined;
  }
}
