// What every topic file of the conformance suite shares: the shape of a
// rule, the resolved options, and helpers that play a client's requests.
// Not part of the public API.

import type * as Assert from "node:assert/strict";
import type * as NodeTest from "node:test";
import { describeValue } from "../_describe.ts";
import type { SessionLike, SessionStorageLike } from "./mod.ts";

type Session = SessionLike;
type SessionStorage = SessionStorageLike;
export type { Session, SessionStorage };

/**
 * `node:assert/strict`, and `node:test` for {@linkcode testSessionStorage},
 * taken from the runtime without a static import, so that the suite loads
 * where there is no `node:` module (Cloudflare Workers without
 * `nodejs_compat`). Using one there throws an error saying so; with
 * `nodejs_compat`, {@linkcode sessionStorageCases} runs in a Worker.
 */
export const assert: typeof Assert = builtin("node:assert/strict");
export const nodeTest: typeof NodeTest = builtin("node:test");

function builtin<T extends object>(id: string): T {
  const module = (globalThis as {
    process?: { getBuiltinModule?(id: string): unknown };
  }).process?.getBuiltinModule?.(id);
  if (module !== undefined) return module as T;
  return new Proxy({} as T, {
    get() {
      throw new Error(
        `@x/session/conformance: the suite needs ${id}, which this runtime ` +
          "lacks. Run it under Deno, Bun, Node, or Cloudflare Workers with " +
          "nodejs_compat.",
      );
    },
  });
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The suite's options once validated and defaulted. */
export interface SuiteOptions {
  name: string;
  dataInCookie: boolean;
  /** Seconds handed to `create` by the expiry rules; undefined: no expiry rules. */
  ttl: number | undefined;
  maxValueBytes: number;
  cookieSafeValues: boolean;
  /** Seconds each single-session concurrency rule replays its scenario. */
  concurrencySeconds: number;
}

/** One rule a store must follow, checked against a fresh storage. */
export interface Rule {
  /** The rule as a sentence, e.g. "save returns null for an untouched session". */
  rule: string;
  /** The usual cause of a failure, for the failure message and the README. */
  cause: string;
  /** Whether the rule needs a storage created with the `ttl` option. */
  ttl?: boolean;
  /**
   * Whether the rule needs the data held server-side: a store with
   * `dataInCookie` can neither delete a session nor refuse an id.
   */
  serverSide?: boolean;
  /** The milliseconds the case may take, when more than the suite's minute. */
  timeout?: number;
  check(storage: SessionStorage, options: SuiteOptions): Promise<void>;
}

/** What one simulated request leaves behind. */
export interface Response {
  /** The session the request worked with. */
  session: Session;
  /** What `save` resolved to. */
  saved: string | null;
  /** The cookie value the client holds afterwards, as a browser would. */
  cookie: string | null;
}

/**
 * Plays one request: reads the session for `cookie`, lets `handle` work
 * with it, saves it, and updates the cookie as a browser would: `null`
 * keeps it, `""` clears it, anything else replaces it.
 */
export async function request(
  storage: SessionStorage,
  cookie: string | null,
  handle?: (session: Session) => void,
): Promise<Response> {
  const session = await readSession(storage, cookie);
  handle?.(session);
  const saved = await saveSession(storage, session);
  const next = saved === null ? cookie : saved === "" ? null : saved;
  return { session, saved, cookie: next };
}

/** The members of a session the suite calls, with their `typeof`. */
const SESSION_MEMBERS = {
  id: "string",
  size: "number",
  get: "function",
  has: "function",
  set: "function",
  unset: "function",
  flash: "function",
  regenerateId: "function",
  destroy: "function",
} as const;

/** `storage.read`, failing with a clear message when it rejects or gives no session. */
export async function readSession(
  storage: SessionStorage,
  cookie: string | null,
): Promise<Session> {
  let session: Session;
  try {
    session = await storage.read(cookie);
  } catch (error) {
    assert.fail(
      `read(${describeValue(cookie)}) must resolve to a session, never ` +
        `reject, but it rejected with: ${String(error)}. Usual cause: read ` +
        "throws on a value it cannot parse or look up; answer a new session " +
        "instead.",
    );
  }
  assert.ok(
    session !== null && typeof session === "object",
    `read(${describeValue(cookie)}) must resolve to a session, got ` +
      describeValue(session),
  );
  const members = session as unknown as Record<string, unknown>;
  const wrong = Object.entries(SESSION_MEMBERS).filter(([member, type]) => {
    const actual: string = typeof members[member];
    return actual !== type;
  });
  assert.ok(
    wrong.length === 0,
    `read(${describeValue(cookie)}) must resolve to a session with the ` +
      `members the suite uses (${Object.keys(SESSION_MEMBERS).join(", ")}), ` +
      `but ${
        wrong.map(([member, type]) =>
          `${member} is ${describeValue(members[member])}, not a ${type}`
        ).join("; ")
      }`,
  );
  assert.ok(
    session.id !== "",
    `read(${describeValue(cookie)}) must give a session with a non-empty ` +
      "string id, got an empty string",
  );
  return session;
}

/** `storage.save`, failing when it resolves to anything but a string or null. */
export async function saveSession(
  storage: SessionStorage,
  session: Session,
): Promise<string | null> {
  const saved = await storage.save(session);
  assert.ok(
    saved === null || typeof saved === "string",
    `save must resolve to a string or null, got ${describeValue(saved)}`,
  );
  return saved;
}

/** Saves a changed session and returns the cookie value, which must be a non-empty string. */
export async function saveChanged(
  storage: SessionStorage,
  session: Session,
): Promise<string> {
  const saved = await saveSession(storage, session);
  assert.ok(
    typeof saved === "string" && saved !== "",
    `save of a changed session must resolve to a non-empty string, got ` +
      describeValue(saved),
  );
  return saved;
}

/** Stores `values` in a new session and returns the cookie value. */
export async function store(
  storage: SessionStorage,
  values: Record<string, unknown>,
): Promise<{ session: Session; cookie: string }> {
  const session = await readSession(storage, null);
  for (const [key, value] of Object.entries(values)) session.set(key, value);
  return { session, cookie: await saveChanged(storage, session) };
}

/** Asserts that `session` is a new, empty session, not the one `cookie` named. */
export function assertNewSession(
  session: Session,
  cookie: string | null,
  why: string,
  oldId?: string,
): void {
  assert.equal(
    session.size,
    0,
    `${why}: expected a new, empty session, but it holds ${session.size} ` +
      "value(s)",
  );
  if (cookie !== null) {
    assert.notEqual(
      session.id,
      cookie,
      `${why}: the new session must not adopt the cookie value as its id`,
    );
  }
  if (oldId !== undefined) {
    assert.notEqual(
      session.id,
      oldId,
      `${why}: the new session must get a new id, not the old one`,
    );
  }
}

/** The values a session holds, as a plain object, for deep comparison. */
export function valuesOf(
  session: Session,
  keys: readonly string[],
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    // defineProperty keeps keys like "__proto__" as plain data.
    Object.defineProperty(values, key, {
      value: session.get(key),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return values;
}

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return performance.now();
}

/** Waits until `now()` reaches `time`. */
export async function sleepUntil(time: number): Promise<void> {
  const wait = time - now();
  if (wait > 0) await sleep(Math.ceil(wait));
}

/**
 * Adds a line to an error's message, and to its stack, which some runners
 * print instead and which holds the message as it was when thrown.
 */
export function amend(error: Error, line: string): void {
  const before = error.message;
  error.message = `${before}\n${line}`;
  if (typeof error.stack === "string" && error.stack.includes(before)) {
    error.stack = error.stack.replace(before, () => error.message);
  }
}
