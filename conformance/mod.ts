/**
 * A conformance suite for {@linkcode SessionStorage} implementations: one
 * call in a test file checks that a store behaves like the built-in ones,
 * under `deno test`, `bun test` and `node --test` alike.
 *
 * @example A test file for a store
 * ```ts ignore
 * // my_storage_test.ts
 * import { testSessionStorage } from "@x/session/conformance";
 * // Your store's factory; the built-in memory store stands in for it here.
 * import { createMemorySessionStorage as createMyStorage } from "@x/session/memory-storage";
 *
 * testSessionStorage({
 *   name: "my store",
 *   create: ({ ttl }) => createMyStorage({ ttl }),
 *   ttl: 0.5,
 * });
 * ```
 *
 * @module
 */

import { describeValue } from "../_describe.ts";
import { amend, nodeTest, type Rule, type SuiteOptions } from "./_harness.ts";
import { lifecycleRules } from "./_lifecycle.ts";
import { flashRules } from "./_flash.ts";
import { fixationRules } from "./_fixation.ts";
import { destroyRules } from "./_destroy.ts";
import { expiryRules } from "./_expiry.ts";
import { fidelityRules } from "./_fidelity.ts";
import { robustnessRules } from "./_robustness.ts";
import { concurrencyRules } from "./_concurrency.ts";
import { lifetimeCases } from "./_lifetime.ts";
import { indexCases } from "./_index.ts";
import { overlappingRules } from "./_overlapping.ts";

// Re-exported so that the types this module's API mentions are documented
// with it.
export type {
  Session,
  SessionChanges,
  SessionData,
  SessionStorage,
  SessionValues,
} from "../session.ts";

/**
 * The members of a session that the suite calls: what a store's sessions
 * must have to be tested, whatever class they are. `@x/session`'s
 * {@linkcode Session} has them, and so do sessions of stores written for
 * `@remix-run/session`, so a store's own types pass without a cast.
 *
 * The suite reads `id` and `size`, and calls the rest as an application
 * would. How the store learns from the session what to save (the `data`,
 * `dirty`, `destroyed` and `deleteId` of `@x/session`'s sessions) is the
 * store's own business: the suite judges only what `read` and `save` do.
 *
 * @example Any session with these members fits
 * ```ts
 * import type { SessionLike } from "@x/session/conformance";
 * import { createSession } from "@x/session/session";
 * import assert from "node:assert/strict";
 *
 * const session: SessionLike = createSession();
 * session.set("user", "mj");
 * assert.equal(session.get("user"), "mj");
 * ```
 */
export interface SessionLike {
  /** The session id; a new one after `regenerateId`. */
  readonly id: string;
  /** The number of values and flash values readable in this request. */
  readonly size: number;
  /** The value, or the flash value readable in this request, under `key`. */
  get(key: string): unknown;
  /** Whether `get(key)` finds a value. */
  has(key: string): boolean;
  /** Stores `value` under `key`; `null` or `undefined` removes the key. */
  set(key: string, value: unknown): void;
  /** Removes the value under `key`. */
  unset(key: string): void;
  /** Stores `value` under `key` for the next request only. */
  flash(key: string, value: unknown): void;
  /** Gives the session a new id; with `true`, `save` deletes the old id's data. */
  regenerateId(deleteOld?: boolean): void;
  /** Ends the session: `save` deletes it and clears the client's cookie. */
  destroy(): void;
}

/**
 * A store as the suite sees it: {@linkcode SessionStorage}'s `read` and
 * `save`, for sessions of any class with the members of
 * {@linkcode SessionLike}.
 *
 * @example A store typed for another session class
 * ```ts
 * import type { SessionStorageLike } from "@x/session/conformance";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const storage: SessionStorageLike = createMemorySessionStorage();
 * assert.equal((await storage.read(null)).size, 0);
 * ```
 *
 * @typeParam S The store's session type.
 */
export interface SessionStorageLike<S extends SessionLike = SessionLike> {
  /** Turns the client's cookie value into a session; see {@linkcode SessionStorage.read}. */
  read(cookie: string | null): Promise<S>;
  /** Persists the session and says what the cookie must become; see {@linkcode SessionStorage.save}. */
  save(session: S): Promise<string | null>;
}

/**
 * Options for {@linkcode testSessionStorage} and {@linkcode sessionStorageCases}.
 *
 * @example A store that honours a ttl
 * ```ts
 * import type { SessionStorageTestOptions } from "@x/session/conformance";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * const options: SessionStorageTestOptions = {
 *   name: "memory store",
 *   create: ({ ttl } = {}) => createMemorySessionStorage({ ttl }),
 *   ttl: 0.5,
 * };
 * ```
 *
 * @typeParam T The store's type, as `create` returns it; `cleanup` gets it.
 */
export interface SessionStorageTestOptions<
  T extends SessionStorageLike = SessionStorageLike,
> {
  /**
   * The store's name, which starts every case's name, so that a failure
   * reads as a sentence: `my store: regenerateId(true) deletes the old
   * session's data`.
   */
  name: string;
  /**
   * Creates the storage for one case. Called once per case, it must give a
   * fresh, empty storage; it may be async. The expiry cases pass
   * `{ ttl }` (seconds, the {@linkcode SessionStorageTestOptions.ttl}
   * option), the lifetime cases `{ maxLifetime }` (one of them with `ttl`),
   * the index cases `{ indexBy: "userId" }` (one of them with `ttl`), every
   * other case `{}`.
   */
  create(
    options: { ttl?: number; maxLifetime?: number; indexBy?: string },
  ): T | Promise<T>;
  /**
   * Opens a second storage over the same data as `storage` (the same
   * folder, database or key prefix) with other options, as an app
   * restarted with a new configuration would. The cases for records
   * written before `ttl` or `maxLifetime` was on need it; a `dataInCookie`
   * store needs none (`create` serves). `cleanup` runs for what it returns.
   *
   * @default {undefined} (no such cases for a server-side store)
   */
  reopen?(
    storage: T,
    options: { ttl?: number; maxLifetime?: number; indexBy?: string },
  ): T | Promise<T>;
  /**
   * Set it when the store supports a `maxLifetime`: the seconds the
   * lifetime cases hand to `create`. The suite then checks that a session
   * in use ends that long after its creation, that `regenerateId` keeps
   * the creation time and, with `ttl`, that the idle ttl still applies.
   * Each case waits about one `maxLifetime`: 1 suits most stores. At most 5.
   *
   * @default {undefined} (no lifetime cases)
   */
  maxLifetime?: number;
  /**
   * Whether the store keeps a per-user index: created with
   * `{ indexBy: "userId" }`, it has the methods of `SessionIndex`
   * (`listSessions`, `destroySessions`, `destroySession`, `handleOf`).
   *
   * @default {false}
   */
  index?: boolean;
  /**
   * Runs after each case, passed or failed, with the storage that case
   * used: close connections, delete folders or keys here.
   */
  cleanup?(storage: T): void | Promise<void>;
  /**
   * Whether the session data lives in the cookie value itself, as with
   * the cookie store. Such a store cannot delete a session (an old cookie
   * value keeps working) and has no ids of its own to refuse, so the cases
   * that check deletion of old ids and refusal of unknown ids are left out.
   *
   * @default {false}
   */
  dataInCookie?: boolean;
  /**
   * Set it when the store supports a `ttl`: the seconds of inactivity the
   * expiry cases hand to `create`. The suite then checks that an unused
   * session expires and that a session in use (saved at least every tenth
   * of the ttl, changed or not) keeps living. Each expiry case takes about
   * one and a half ttls, more on a busy machine; leave `ttl` out to run only
   * the other cases.
   *
   * A store may end a session up to a fifth of the ttl, at most one second,
   * before or after the ttl: so a store whose clock counts whole seconds
   * (memcached, Redis `EX`) needs a ttl of 5 or more; 0.5 suits a store that
   * counts milliseconds. At most 300.
   *
   * @default {undefined} (no expiry cases)
   */
  ttl?: number;
  /**
   * The largest session the store promises to hold, measured as the UTF-8
   * bytes of `JSON.stringify` of the session's values. One case saves a
   * session of exactly this size. At least 100.
   *
   * @default {2000} for `dataInCookie` stores, {100000} otherwise
   */
  maxValueBytes?: number;
  /**
   * Whether the values `save` returns must be RFC 6265 cookie-octets
   * (no spaces, quotes, commas, semicolons or backslashes), so that they
   * can go into a `Set-Cookie` header as they are. `@x/session`'s cookies
   * encode any value, so its contract does not ask for it; set it when the
   * store's values reach the header unencoded. The built-in stores meet it.
   *
   * @default {false}
   */
  cookieSafeValues?: boolean;
  /**
   * How long, in seconds, each of the two single-session concurrency cases
   * replays its scenario. A store that tears writes does so only when a
   * read or a write lands in the wrong microsecond: 2 seconds catch such a
   * store in at least 99% of runs on a 2-core machine. Lower it for a quick
   * local loop; keep the default where the verdict counts (CI). From 0.1 to
   * 60.
   *
   * @default {2}, or the environment variable
   * `CONFORMANCE_CONCURRENCY_SECONDS` when it is set
   */
  concurrencySeconds?: number;
}

/**
 * One case of the suite, as {@linkcode sessionStorageCases} returns it.
 *
 * @example Listing the rules a store is held to
 * ```ts
 * import {
 *   sessionStorageCases,
 *   type SessionStorageTestCase,
 * } from "@x/session/conformance";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const cases: SessionStorageTestCase[] = sessionStorageCases({
 *   name: "memory store",
 *   create: () => createMemorySessionStorage(),
 * });
 * const rules = cases.map((c) => `${c.topic}: ${c.name}`);
 * assert.ok(rules.includes("flash: memory store: a flash value is visible in the next request"));
 * ```
 */
export interface SessionStorageTestCase {
  /** The topic: lifecycle, flash, fixation and regeneration, destroy, expiry, data fidelity, robustness, concurrency, overlapping requests, maxLifetime, records written before an option was on, or per-user index. */
  topic: string;
  /** The store's name and the rule the case checks, as one sentence. */
  name: string;
  /** The usual cause of a failure of this case, which its failure message ends with. */
  cause: string;
  /**
   * The milliseconds the case may take on a busy machine: a minute, more
   * for the expiry cases of a long ttl.
   */
  timeout: number;
  /**
   * Creates a storage, checks the rule, then runs `cleanup`. Rejects with an
   * `AssertionError` that explains what went wrong when the store breaks
   * the rule.
   */
  fn(): Promise<void>;
}

// Long enough for a busy machine; Bun's default of 5 s is not.
const CASE_TIMEOUT_MS = 60_000;

// The examples that call testSessionStorage are marked `ignore`: `deno test
// --doc` wraps an example in a test, and tests cannot register tests.
// memory_storage_test.ts runs the same code.

/**
 * Registers the conformance suite for a session store with `node:test`,
 * which `deno test`, `bun test` and `node --test` all run: one test per
 * case, named `<name>: <rule>`, so that each runner's summary counts cases.
 * Call it at the top level of a test file; a store that needs a server or
 * a connection opens it in a top-level `before` hook and closes it in
 * `after`.
 *
 * The topics are lifecycle, flash, fixation and regeneration, destroy, data
 * fidelity, robustness, concurrency, overlapping requests (left out with
 * `dataInCookie`), with the `ttl` option expiry, with `maxLifetime` the
 * absolute lifetime, with `reopen` (or `dataInCookie`) records written
 * before an option was on, and with `index` the per-user index.
 *
 * Reading a failure: each case is named `<name>: <rule>`, such as
 * `my store: regenerateId(true) deletes the old session's data`, and its
 * `AssertionError` says what the store did instead, such as `read of the id
 * that regenerateId(true) replaced: expected a new, empty session, but it
 * holds 1 value(s)`, with the usual cause, and ends with the line of the
 * test file that called `testSessionStorage`.
 *
 * @example The built-in memory store
 * ```ts ignore
 * import { testSessionStorage } from "@x/session/conformance";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 *
 * testSessionStorage({
 *   name: "memory store",
 *   create: ({ ttl }) => createMemorySessionStorage({ ttl }),
 *   ttl: 0.5,
 *   maxValueBytes: 1_000_000,
 * });
 * ```
 *
 * @typeParam T The store's type, as `create` returns it.
 * @param options What the store is and how to create it.
 * @throws {TypeError} When an option is missing or of the wrong type.
 * @throws {RangeError} When `ttl`, `maxValueBytes` or `concurrencySeconds` is
 * out of range.
 */
export function testSessionStorage<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): void {
  const cases = sessionStorageCases(options);
  const site = callerSite();
  for (const c of cases) {
    nodeTest.test(c.name, { timeout: c.timeout }, async () => {
      try {
        await c.fn();
      } catch (error) {
        if (site && error instanceof Error) {
          amend(error, `(testSessionStorage was called at ${site})`);
        }
        throw error;
      }
    });
  }
}

/** Where the code that called testSessionStorage is, or undefined. */
function callerSite(): string | undefined {
  const here = decodeURIComponent(new URL(import.meta.url).pathname);
  const frames = (new Error().stack ?? "").split("\n").slice(1);
  for (const frame of frames) {
    const at = frame.match(/((?:file:\/\/)?\/[^\s()]+:\d+:\d+)\)?\s*$/)?.[1];
    if (at === undefined) continue;
    const path = at.startsWith("file://")
      ? decodeURIComponent(at.slice(7))
      : at;
    if (!path.startsWith(here)) return path;
  }
  return undefined;
}

/**
 * Returns the suite's cases for a store without registering them, for
 * running them by hand or with another test runner. Each case's `fn`
 * rejects when the store breaks the case's rule.
 *
 * @example Running the cases by hand
 * ```ts
 * import { sessionStorageCases } from "@x/session/conformance";
 * import { createMemorySessionStorage } from "@x/session/memory-storage";
 * import assert from "node:assert/strict";
 *
 * const cases = sessionStorageCases({
 *   name: "memory store",
 *   create: () => createMemorySessionStorage(),
 * });
 * const failures: string[] = [];
 * for (const c of cases) await c.fn().catch(() => failures.push(c.name));
 * assert.deepEqual(failures, []);
 * ```
 *
 * @typeParam T The store's type, as `create` returns it.
 * @param options What the store is and how to create it.
 * @returns The cases, grouped by topic, in the order they are meant to run.
 * @throws {TypeError} When an option is missing or of the wrong type.
 * @throws {RangeError} When `ttl`, `maxValueBytes` or `concurrencySeconds` is
 * out of range.
 */
export function sessionStorageCases<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): SessionStorageTestCase[] {
  const suite = resolve(options);
  const topics: [string, Rule[]][] = [
    ["lifecycle", lifecycleRules(suite.cookieSafeValues)],
    ["flash", flashRules],
    ["fixation and regeneration", fixationRules],
    ["destroy", destroyRules],
    ["data fidelity", fidelityRules(suite.maxValueBytes)],
    ["robustness", robustnessRules],
    ["concurrency", concurrencyRules],
  ];
  if (!suite.dataInCookie) {
    topics.push(["overlapping requests", overlappingRules]);
  }
  if (suite.ttl !== undefined) topics.push(["expiry", expiryRules(suite.ttl)]);
  const applies = (rule: Rule) => !(rule.serverSide && suite.dataInCookie);
  return [
    ...topics.flatMap(([topic, rules]) =>
      rules.filter(applies).map((rule) => ({
        topic,
        name: `${suite.name}: ${rule.rule}`,
        cause: rule.cause,
        timeout: rule.timeout ?? CASE_TIMEOUT_MS,
        fn: () => runRule(options, suite, rule),
      }))
    ),
    ...lifetimeCases(options),
    ...indexCases(options),
  ];
}

async function runRule<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
  suite: SuiteOptions,
  rule: Rule,
): Promise<void> {
  const storage = await options.create(rule.ttl ? { ttl: suite.ttl } : {});
  if (
    storage === null || typeof storage !== "object" ||
    typeof storage.read !== "function" || typeof storage.save !== "function"
  ) {
    throw new TypeError(
      `testSessionStorage: option "create" must return (or resolve to) a ` +
        `session storage with read() and save() methods, got ` +
        `${describeValue(storage)}. Usual cause: an arrow function with a ` +
        "body in braces and no return statement.",
    );
  }
  let failure: unknown;
  try {
    await rule.check(storage, suite);
  } catch (error) {
    if (
      error instanceof Error && error.name === "AssertionError" &&
      !error.message.includes("Usual cause")
    ) {
      amend(error, `Usual cause: ${rule.cause}`);
    }
    failure = error;
  }
  try {
    await options.cleanup?.(storage);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
}

function resolve<T extends SessionStorageLike>(
  options: SessionStorageTestOptions<T>,
): SuiteOptions {
  const fn = "testSessionStorage";
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${fn}: expected an options object, got ${describeValue(options)}. ` +
        'Pass { name: "my store", create: () => createMyStorage() }.',
    );
  }
  const {
    name,
    create,
    cleanup,
    dataInCookie,
    ttl,
    maxValueBytes,
    cookieSafeValues,
    concurrencySeconds = concurrencySecondsFromEnvironment(),
  } = options;
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(
      `${fn}: option "name" must be a non-empty string, got ` +
        `${describeValue(name)}. Name the store, such as "redis store".`,
    );
  }
  if (typeof create !== "function") {
    throw new TypeError(
      `${fn}: option "create" must be a function that returns a fresh ` +
        `storage, got ${describeValue(create)}.`,
    );
  }
  if (cleanup !== undefined && typeof cleanup !== "function") {
    throw new TypeError(
      `${fn}: option "cleanup" must be a function or left out, got ` +
        `${describeValue(cleanup)}.`,
    );
  }
  for (
    const [option, value] of [["dataInCookie", dataInCookie], [
      "cookieSafeValues",
      cookieSafeValues,
    ]] as const
  ) {
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(
        `${fn}: option "${option}" must be true or false, got ` +
          `${describeValue(value)}.`,
      );
    }
  }
  if (
    ttl !== undefined &&
    (typeof ttl !== "number" || !(ttl > 0) || !(ttl <= MAX_TTL))
  ) {
    throw new RangeError(
      `${fn}: option "ttl" must be a number of seconds above 0 and at most ` +
        `${MAX_TTL}, got ${describeValue(ttl)}. Use 0.5 for a store that ` +
        "counts milliseconds, 5 or more for one that counts whole seconds, " +
        "or leave it out to run the cases that need no waiting.",
    );
  }
  const inCookie = dataInCookie ?? false;
  const bytes = maxValueBytes ?? (inCookie ? 2000 : 100_000);
  if (!Number.isSafeInteger(bytes) || bytes < 100) {
    throw new RangeError(
      `${fn}: option "maxValueBytes" must be a whole number of at least ` +
        `100, got ${describeValue(maxValueBytes)}. Give the size of the ` +
        "largest session the store holds, in bytes of JSON.",
    );
  }
  if (
    typeof concurrencySeconds !== "number" || !(concurrencySeconds >= 0.1) ||
    !(concurrencySeconds <= 60)
  ) {
    throw new RangeError(
      `${fn}: option "concurrencySeconds" must be a number from 0.1 to 60, ` +
        `got ${describeValue(concurrencySeconds)}. Leave it out (and the ` +
        "environment variable CONFORMANCE_CONCURRENCY_SECONDS unset) for " +
        "the default of 2, which catches torn writes reliably.",
    );
  }
  return {
    name,
    dataInCookie: inCookie,
    ttl,
    maxValueBytes: bytes,
    cookieSafeValues: cookieSafeValues ?? false,
    concurrencySeconds,
  };
}

// The default of `concurrencySeconds`: a quick local run (this repository's
// `deno task test:quick`) shortens every store's cases at once through the
// environment, without a change to each test file.
function concurrencySecondsFromEnvironment(): number {
  let text: string | undefined;
  try {
    // Through the global, not node:process: the suite also loads where
    // there is no node: module (Cloudflare Workers without nodejs_compat).
    text = (globalThis as { process?: { env?: Record<string, string> } })
      .process?.env?.CONFORMANCE_CONCURRENCY_SECONDS;
  } catch {
    // Deno without --allow-env: the default.
  }
  return text === undefined || text === "" ? 2 : Number(text);
}

// Each expiry case waits about one and a half ttls, up to four times.
const MAX_TTL = 300;
