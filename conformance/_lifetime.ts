// Absolute lifetime and records written before an option was on: a session
// ends maxLifetime after it was created however active it is, regenerateId
// keeps the creation time, and a ttl or maxLifetime turned on binds sessions
// saved while it was off.
//
// Every "still there" check first verifies that the timing allowed it, and
// every "gone" check waits from a moment after the session was created, so
// a slow machine can make a case slower, never wrong.

import { describeValue } from "../_describe.ts";
import {
  amend,
  assert,
  assertNewSession,
  now,
  readSession,
  request,
  type SessionStorage,
  sleepUntil,
  store,
} from "./_harness.ts";
import type {
  SessionStorageLike,
  SessionStorageTestCase,
  SessionStorageTestOptions,
} from "./mod.ts";

/** How long one case may take: each waits a few seconds at most. */
export const TIMEOUT_MS = 60_000;

/** What `create` and `reopen` are given. */
export type CreateOptions = Parameters<SessionStorageTestOptions["create"]>[0];

/** A case of a topic file that opens its own storages. */
export interface OpeningCase {
  topic: string;
  rule: string;
  /** The usual cause of a failure, which the failure message ends with. */
  cause: string;
  body(open: Open, reopen: Reopen): Promise<void>;
  /** Milliseconds the case may take; TIMEOUT_MS when left out. */
  timeout?: number;
}

/** Opens storages for one case, each cleaned up once the case ends. */
export type Open = (options: CreateOptions) => Promise<SessionStorage>;

/** Reopens a storage's data with other options, cleaned up like the rest. */
export type Reopen = (
  storage: SessionStorage,
  options: CreateOptions,
) => Promise<SessionStorage>;

/** The cases of `cases`, named for the store, each run by `runOpening`. */
export function openingCases<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
  cases: OpeningCase[],
): SessionStorageTestCase[] {
  return cases.map(({ topic, rule, cause, body, timeout }) => ({
    topic,
    name: `${options.name}: ${rule}`,
    cause,
    timeout: timeout ?? TIMEOUT_MS,
    fn: () => runOpening(options, cause, body),
  }));
}

/**
 * Runs `body` with storages it opens through `create` (and `reopen`), then
 * cleans each of them up, passed or failed. A failed assertion ends with
 * the usual `cause`.
 */
async function runOpening<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
  cause: string,
  body: (open: Open, reopen: Reopen) => Promise<void>,
): Promise<void> {
  const opened: T[] = [];
  const track = async (made: T | Promise<T>) => {
    const storage = await made;
    opened.push(storage);
    return storage;
  };
  const reopen: Reopen = (storage, settings) =>
    track(
      options.reopen
        ? options.reopen(storage as T, settings)
        : options.create(settings),
    );
  let failure: unknown;
  try {
    await body((settings) => track(options.create(settings)), reopen);
  } catch (error) {
    if (error instanceof Error && error.name === "AssertionError") {
      amend(error, `Usual cause: ${cause}`);
    }
    failure = error;
  }
  for (const storage of opened) {
    try {
      await options.cleanup?.(storage);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure !== undefined) throw failure;
}

/** Checks a seconds option of the suite: above 0, at most 5. */
export function checkSeconds(name: string, value: unknown): void {
  if (
    value !== undefined &&
    (typeof value !== "number" || !(value > 0) || !(value <= 5))
  ) {
    throw new RangeError(
      `testSessionStorage: option "${name}" must be a number of seconds ` +
        `above 0 and at most 5, got ${describeValue(value)}. Use 1, or ` +
        "leave it out when the store has no such option.",
    );
  }
}

/** The maxLifetime and legacy-record cases the options call for. */
export function lifetimeCases<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): SessionStorageTestCase[] {
  const { ttl, maxLifetime, dataInCookie } = options;
  checkSeconds("maxLifetime", maxLifetime);
  if (options.reopen !== undefined && typeof options.reopen !== "function") {
    throw new TypeError(
      'testSessionStorage: option "reopen" must be a function or left out, ' +
        `got ${describeValue(options.reopen)}.`,
    );
  }
  const cases: OpeningCase[] = [];
  if (maxLifetime !== undefined) {
    const lifetime = maxLifetime * 1000;
    // Slack for clocks that tick in whole milliseconds.
    const margin = Math.max(10, lifetime * 0.05);

    cases.push({
      topic: "maxLifetime",
      rule: "a session in use ends maxLifetime after it was created",
      cause: "the expiry is renewed from the time of each save alone; " +
        "keep the creation time in the record and cap the expiry at " +
        "creation + maxLifetime.",
      async body(open) {
        const storage = await open({ maxLifetime });
        const start = now();
        const first = await store(storage, { user: "mj" });
        let cookie: string | null = first.cookie;
        const created = now();
        for (let step = 1; step <= 3; step++) {
          await sleepUntil(start + lifetime * step / 4);
          const next = await request(storage, cookie, (session) => {
            const elapsed = now() - start;
            if (session.get("user") === undefined && elapsed < lifetime) {
              assert.fail(
                `a session read ${Math.round(elapsed)} ms after it was ` +
                  `created, with a maxLifetime of ${maxLifetime} s, lost its ` +
                  "data",
              );
            }
            session.set("step", step);
          });
          cookie = next.cookie;
        }
        await sleepUntil(created + lifetime + margin);
        assertNewSession(
          await readSession(storage, cookie),
          cookie,
          `read ${maxLifetime} s after its creation, in use every ` +
            `${maxLifetime / 4} s, with a maxLifetime of ${maxLifetime} s`,
        );
      },
    });

    cases.push({
      topic: "maxLifetime",
      rule:
        "regenerateId keeps the creation time: a new id does not restart maxLifetime",
      cause: "the record written under the new id takes a new creation " +
        "time; carry the one the session was read with.",
      async body(open) {
        const storage = await open({ maxLifetime });
        const first = await store(storage, { user: "mj" });
        const created = now();
        await sleepUntil(created + lifetime / 2);
        const login = await request(storage, first.cookie, (session) => {
          session.regenerateId(true);
          session.set("role", "admin");
        });
        assert.ok(login.cookie, "regenerateId(true) gives a new cookie");
        await sleepUntil(created + lifetime + margin);
        assertNewSession(
          await readSession(storage, login.cookie),
          login.cookie,
          `read ${maxLifetime} s after its creation, regenerated halfway, ` +
            `with a maxLifetime of ${maxLifetime} s`,
        );
      },
    });

    if (ttl !== undefined) {
      cases.push({
        topic: "maxLifetime",
        rule: "with a maxLifetime, the idle ttl still ends an unused session",
        cause: "with maxLifetime set, the expiry is creation + maxLifetime " +
          "alone; take the earlier of that and now + ttl.",
        async body(open) {
          // A lifetime that cannot end during the case.
          const storage = await open({ ttl, maxLifetime: 3600 });
          const { cookie } = await store(storage, { user: "mj" });
          await sleepUntil(now() + ttl * 1500 + margin);
          assertNewSession(
            await readSession(storage, cookie),
            cookie,
            `read ${1.5 * ttl} s after a save, with a ttl of ${ttl} s and ` +
              "a maxLifetime of an hour",
          );
        },
      });
    }
  }

  // A server-side store needs `reopen` to read what another configuration
  // wrote; a cookie store reads any cookie it is handed.
  if (options.reopen !== undefined || dataInCookie) {
    const legacy = (
      option: "ttl" | "maxLifetime",
      seconds: number,
    ): OpeningCase => ({
      topic: "records written before an option was on",
      rule: `a session saved without ${option} reads as a new session once ` +
        `${option} is on`,
      cause: "a record without an expiry is taken to live forever; once a " +
        "ttl or maxLifetime is set, treat it as expired.",
      async body(open, reopen) {
        const before = await open({});
        const { cookie } = await store(before, { user: "mj" });
        const after = await reopen(before, { [option]: seconds });
        assertNewSession(
          await readSession(after, cookie),
          cookie,
          `a session saved by a store without ${option}, read by one ` +
            `with ${option} ${seconds}`,
        );
      },
    });
    if (ttl !== undefined) cases.push(legacy("ttl", ttl));
    if (maxLifetime !== undefined) {
      cases.push(legacy("maxLifetime", maxLifetime));
    }
    // Without this, a `reopen` that opened an empty store would pass the
    // cases above.
    cases.push({
      topic: "records written before an option was on",
      rule:
        "a session keeps its data when its store is reopened with the same options",
      cause: "reopen opens a new, empty store instead of the data of the " +
        "storage it is given.",
      async body(open, reopen) {
        const before = await open({});
        const { cookie } = await store(before, { user: "mj" });
        const after = await reopen(before, {});
        assert.equal(
          (await readSession(after, cookie)).get("user"),
          "mj",
          "a session read at once by its store reopened lost its data: " +
            "reopen must open the same data",
        );
      },
    });
  }

  return openingCases(options, cases);
}
