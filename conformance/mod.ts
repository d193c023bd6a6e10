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

import { describe, it } from "node:test";
import type { SessionStorage } from "../session.ts";
import type { Rule, SuiteOptions } from "./_harness.ts";
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
  SessionData,
  SessionStorage,
  SessionValues,
} from "../session.ts";

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
 */
export interface SessionStorageTestOptions {
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
   * option), every other case passes `{}`.
   */
  create(
    options: { ttl?: number; maxLifetime?: number; indexBy?: string },
  ): SessionStorage | Promise<SessionStorage>;
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
    storage: SessionStorage,
    options: { ttl?: number; maxLifetime?: number; indexBy?: string },
  ): SessionStorage | Promise<SessionStorage>;
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
  cleanup?(storage: SessionStorage): void | Promise<void>;
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
   * session expires and that a session in use (saved at least every half
   * ttl, changed or not) keeps living. Those cases wait up to about two
   * ttls each, so keep it short: 0.5 suits a store that counts
   * milliseconds; use 2 for one that counts whole seconds. At most 5.
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
 * which `deno test`, `bun test` and `node --test` all run: one `describe`
 * for the store, one per topic, and one `it` per rule. Call it at the top
 * level of a test file, or inside a `describe` whose `before` and `after`
 * hooks open and close what the store needs.
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
 * holds 1 value(s)`. The rule names the contract of
 * {@linkcode SessionStorage} that was broken.
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
 * @param options What the store is and how to create it.
 * @throws {TypeError} When an option is missing or of the wrong type.
 * @throws {RangeError} When `ttl` or `maxValueBytes` is out of range.
 */
export function testSessionStorage(options: SessionStorageTestOptions): void {
  const cases = sessionStorageCases(options);
  describe(options.name, () => {
    for (const topic of new Set(cases.map((c) => c.topic))) {
      describe(topic, () => {
        for (const c of cases) {
          if (c.topic === topic) {
            it(c.name, { timeout: CASE_TIMEOUT_MS }, () => c.fn());
          }
        }
      });
    }
  });
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
 * @param options What the store is and how to create it.
 * @returns The cases, grouped by topic, in the order they are meant to run.
 * @throws {TypeError} When an option is missing or of the wrong type.
 * @throws {RangeError} When `ttl` or `maxValueBytes` is out of range.
 */
export function sessionStorageCases(
  options: SessionStorageTestOptions,
): SessionStorageTestCase[] {
  const suite = resolve(options);
  const topics: [string, Rule[]][] = [
    ["lifecycle", lifecycleRules],
    ["flash", flashRules],
    ["fixation and regeneration", fixationRules(suite.dataInCookie)],
    ["destroy", destroyRules(suite.dataInCookie)],
    ["data fidelity", fidelityRules(suite.maxValueBytes)],
    ["robustness", robustnessRules],
    ["concurrency", concurrencyRules],
  ];
  if (!suite.dataInCookie) {
    topics.push(["overlapping requests", overlappingRules]);
  }
  if (suite.ttl !== undefined) topics.push(["expiry", expiryRules(suite.ttl)]);
  return [
    ...topics.flatMap(([topic, rules]) =>
      rules.map((rule) => ({
        topic,
        name: `${suite.name}: ${rule.rule}`,
        fn: () => runRule(options, suite, rule),
      }))
    ),
    ...lifetimeCases(options),
    ...indexCases(options),
  ];
}

async function runRule(
  options: SessionStorageTestOptions,
  suite: SuiteOptions,
  rule: Rule,
): Promise<void> {
  const storage = await options.create(
    rule.ttl ? { ttl: suite.ttl } : {},
  );
  let failure: unknown;
  try {
    await rule.check(storage, suite);
  } catch (error) {
    failure = error;
  }
  try {
    await options.cleanup?.(storage);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw failure;
}

function resolve(options: SessionStorageTestOptions): SuiteOptions {
  const fn = "testSessionStorage";
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `${fn}: expected an options object, got ${String(options)}. Pass ` +
        '{ name: "my store", create: () => createMyStorage() }.',
    );
  }
  const { name, create, cleanup, dataInCookie, ttl, maxValueBytes } = options;
  if (typeof name !== "string" || name.trim() === "") {
    throw new TypeError(
      `${fn}: option "name" must be a non-empty string, got ` +
        `${JSON.stringify(name)}. Name the store, such as "redis store".`,
    );
  }
  if (typeof create !== "function") {
    throw new TypeError(
      `${fn}: option "create" must be a function that returns a fresh ` +
        `storage, got ${typeof create}.`,
    );
  }
  if (cleanup !== undefined && typeof cleanup !== "function") {
    throw new TypeError(
      `${fn}: option "cleanup" must be a function or left out, got ` +
        `${typeof cleanup}.`,
    );
  }
  if (dataInCookie !== undefined && typeof dataInCookie !== "boolean") {
    throw new TypeError(
      `${fn}: option "dataInCookie" must be true or false, got ` +
        `${String(dataInCookie)}.`,
    );
  }
  if (
    ttl !== undefined &&
    (typeof ttl !== "number" || !(ttl > 0) || !(ttl <= 5))
  ) {
    throw new RangeError(
      `${fn}: option "ttl" must be a number of seconds above 0 and at most ` +
        `5, got ${String(ttl)}. Use 0.5 for a store that counts ` +
        "milliseconds, or leave it out when the store has no ttl.",
    );
  }
  const inCookie = dataInCookie ?? false;
  const bytes = maxValueBytes ?? (inCookie ? 2000 : 100_000);
  if (!Number.isSafeInteger(bytes) || bytes < 100) {
    throw new RangeError(
      `${fn}: option "maxValueBytes" must be a whole number of at least ` +
        `100, got ${String(maxValueBytes)}. Give the size of the largest ` +
        "session the store holds, in bytes of JSON.",
    );
  }
  return { name, dataInCookie: inCookie, ttl, maxValueBytes: bytes };
}
