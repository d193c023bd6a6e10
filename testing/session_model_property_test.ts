// A model-based property test of the Session and the stores: random
// requests, each reading the session (now and then twice), calling set,
// unset, flash, get, regenerateId, destroy and save on it in random order,
// and saving it, against a model of the documented semantics in a few
// plain maps. After every call, every key's get and has, size, dirty and
// destroyed must be what the model says, and so must whether the call
// threw, what save resolved to, and whether a read resumed the session.
//
// The model's rules, from the reference README and ours:
// - a flash value is invisible in the request that sets it, readable (and
//   counted by size and has) all through the next request that reads the
//   session, and gone after it;
// - a value and a flash value under one key: get gives the value, size
//   counts the key once;
// - a session read with flash values is dirty, so save drops them;
// - a destroyed session reads empty and every change throws;
// - save: "" when destroyed, after deleting the data under the id read and
//   under the current id; null when nothing changed; otherwise the cookie
//   value, with the original id's data deleted after regenerateId(true);
// - server-side stores: a second save of the session in the same request,
//   or the save of a second read of it, applies its request's changes onto
//   what the first one wrote (README, "Overlapping requests"), and writes
//   nothing once that record is gone, in place or under a new id; the
//   cookie store keeps each session in its own cookie, so the last save's
//   value is the session.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { Session, SessionStorage } from "../session.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";

// Runs per store: 100 times its factor (the fs store is slower than the
// others), ten times as many with STRESS=1 (`deno task stress`).
const NUM_RUNS = process.env.STRESS === "1" ? 1000 : 100;

const work = mkdtempSync(join(tmpdir(), "session-model-"));
after(() => rmSync(work, { recursive: true, force: true }));

// "toString" is inherited by every object: it must be no value until set.
const KEYS = ["a", "b", "toString"] as const;
type Key = typeof KEYS[number];
type Values = Record<string, unknown>;

type Call =
  | { call: "set"; key: Key; value: unknown }
  | { call: "unset"; key: Key }
  | { call: "flash"; key: Key; value: unknown }
  | { call: "get"; key: Key }
  | { call: "regenerateId"; deleteOld: boolean }
  | { call: "destroy" }
  | { call: "save" };

interface Request {
  /**
   * Which cookie the client sends: its current one, none, or one that a
   * save gave before (a number: which one, modulo their count), as a
   * client that kept an old cookie would.
   */
  cookie: "current" | "none" | number;
  /** Whether the request reads the session a second time. */
  twice: boolean;
  /** Each call, on the first read session (0) or the second (1). */
  calls: { on: 0 | 1; call: Call }[];
}

const key = fc.constantFrom(...KEYS);
const value = fc.oneof(
  fc.constantFrom(0, 1, "", "x", true, false),
  fc.jsonValue({ maxDepth: 1 }),
);
const call: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      call: fc.constant("set" as const),
      key,
      value: fc.oneof(value, fc.constantFrom(null, undefined)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ call: fc.constant("unset" as const), key }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      call: fc.constant("flash" as const),
      key,
      value: fc.oneof(value, fc.constant(undefined)),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ call: fc.constant("get" as const), key }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      call: fc.constant("regenerateId" as const),
      deleteOld: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ call: fc.constant("destroy" as const) }),
  },
  { weight: 2, arbitrary: fc.record({ call: fc.constant("save" as const) }) },
);
const request: fc.Arbitrary<Request> = fc.record({
  cookie: fc.oneof(
    { weight: 3, arbitrary: fc.constant("current" as const) },
    fc.constant("none" as const),
    fc.nat(),
  ),
  twice: fc.constantFrom(false, false, false, true),
  calls: fc.array(
    fc.record({ on: fc.constantFrom<0 | 1>(0, 0, 1), call }),
    { maxLength: 8 },
  ),
});
const requests = fc.array(request, { minLength: 1, maxLength: 6 });

/** What JSON gives back, as every store does. */
function asJson<T>(data: T): T {
  return JSON.parse(JSON.stringify(data));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What a store holds for a session, in the model. */
interface ModelRecord {
  values: Values;
  flash: Values;
  /** A new number on every write, to tell whether it changed since a read. */
  version: number;
}

/** A session as the model sees it. */
class ModelSession {
  values: Values;
  /** The flash values readable in this request. */
  readonly flash: Values;
  /** The flash values set in this request, for the next one. */
  next: Values = {};
  changed = new Set<string>();
  dirty: boolean;
  destroyed = false;
  deleteOriginal = false;
  /** The model id: it changes on regenerateId. */
  id: string;
  readonly originalId: string;
  /**
   * The record this session was read from, with the version read, or the
   * record it last wrote, with no version: a save after a save applies its
   * changes onto what the first one wrote, which may hold what it merged.
   */
  base: { id: string; version?: number } | undefined;

  constructor(id: string, record: ModelRecord | undefined) {
    this.id = this.originalId = id;
    this.values = { ...record?.values };
    this.flash = { ...record?.flash };
    this.dirty = Object.keys(this.flash).length > 0;
    this.base = record && { id, version: record.version };
  }

  get(key: string): unknown {
    if (this.destroyed) return undefined;
    if (Object.hasOwn(this.values, key)) return this.values[key];
    return Object.hasOwn(this.flash, key) ? this.flash[key] : undefined;
  }

  has(key: string): boolean {
    return !this.destroyed &&
      (Object.hasOwn(this.values, key) || Object.hasOwn(this.flash, key));
  }

  get size(): number {
    if (this.destroyed) return 0;
    return new Set([...Object.keys(this.values), ...Object.keys(this.flash)])
      .size;
  }

  /** Applies `call`; false when it must throw. */
  apply(call: Call, newId: () => string): boolean {
    if (call.call === "get" || call.call === "save") return true;
    if (call.call === "destroy") {
      this.destroyed = this.dirty = true;
      return true;
    }
    if (this.destroyed) return false;
    this.dirty = true;
    switch (call.call) {
      case "set":
      case "unset":
        if (call.call === "set" && call.value != null) {
          this.values[call.key] = call.value;
        } else delete this.values[call.key];
        this.changed.add(call.key);
        break;
      case "flash":
        this.next[call.key] = call.value;
        break;
      case "regenerateId":
        this.deleteOriginal ||= call.deleteOld;
        this.id = newId();
        break;
    }
    return true;
  }

  /** This request's changes applied onto `stored` (README, "Overlapping requests"). */
  mergeOnto(stored: ModelRecord): { values: Values; flash: Values } {
    const values = { ...stored.values };
    for (const key of this.changed) {
      if (Object.hasOwn(this.values, key)) values[key] = this.values[key];
      else delete values[key];
    }
    const flash = { ...stored.flash };
    for (const [key, value] of Object.entries(this.flash)) {
      if (Object.hasOwn(flash, key) && sameJson(flash[key], value)) {
        delete flash[key];
      }
    }
    return { values, flash: { ...flash, ...this.next } };
  }
}

/** A server-side store, in the model. */
class ModelServerStore {
  records = new Map<string, ModelRecord>();
  #ids = 0;
  #versions = 0;

  newId = (): string => `s${++this.#ids}`;

  read(cookie: string | null): ModelSession {
    const record = cookie === null ? undefined : this.records.get(cookie);
    return new ModelSession(record ? cookie! : this.newId(), record);
  }

  /** The cookie value: a model id, "" or null. */
  save(session: ModelSession): string | null {
    const { id, originalId } = session;
    const deleteOriginal = originalId !== id &&
      (session.deleteOriginal || session.destroyed);
    if (session.destroyed) {
      if (deleteOriginal) this.records.delete(originalId);
      if (session.base) this.records.delete(session.base.id);
      this.records.delete(id);
      return "";
    }
    if (!session.dirty) return null;
    const { base } = session;
    // regenerateId(true) moves the record read or written; otherwise a
    // session given a new id writes a new record from it.
    const moves = base !== undefined && session.deleteOriginal &&
      base.id !== id;
    let data = { values: session.values, flash: session.next };
    if (base !== undefined) {
      const stored = this.records.get(base.id);
      if (stored === undefined) return null; // a logout is final
      if (stored.version !== base.version) data = session.mergeOnto(stored);
      if (moves) this.records.delete(base.id);
    }
    if (session.deleteOriginal) this.records.delete(originalId);
    this.records.set(id, { ...asJson(data), version: ++this.#versions });
    session.base = { id };
    return id;
  }
}

/** The cookie store, in the model: the cookie value is the record. */
class ModelCookieStore {
  #ids = 0;

  newId = (): string => `c${++this.#ids}`;

  read(cookie: string | null): ModelSession {
    if (cookie === null) return new ModelSession(this.newId(), undefined);
    const { id, ...record } = JSON.parse(cookie);
    return new ModelSession(id, record);
  }

  save(session: ModelSession): string | null {
    if (session.destroyed) return "";
    if (!session.dirty) return null;
    const { id, values, next: flash } = session;
    return JSON.stringify({ id, ...asJson({ values, flash }), version: 0 });
  }
}

/** The client's cookie, real and modelled, and the ids it names. */
interface Cookie {
  real: string;
  model: string;
  id: string;
  modelId: string;
}

/** What a session shows through the public API. */
function observe(session: Session | ModelSession) {
  return {
    values: KEYS.map((key) => [key, session.get(key), session.has(key)]),
    size: session.size,
    dirty: session.dirty,
    destroyed: session.destroyed,
  };
}

function perform(session: Session, call: Call): unknown {
  switch (call.call) {
    case "set":
      return session.set(call.key, call.value);
    case "unset":
      return session.unset(call.key);
    case "flash":
      return session.flash(call.key, call.value);
    case "get":
      return session.get(call.key);
    case "regenerateId":
      return session.regenerateId(call.deleteOld);
    case "destroy":
      return session.destroy();
  }
}

async function check(
  storage: SessionStorage,
  model: ModelServerStore | ModelCookieStore,
  requests: Request[],
) {
  let current: Cookie | null = null;
  // Every cookie value a save gave, in the middle of a request or at its end.
  const issued: Cookie[] = [];
  const log: string[] = [];
  const expect = (actual: unknown, expected: unknown, what: string) => {
    log.push(what);
    assert.deepStrictEqual(actual, expected, log.join("\n"));
  };
  const read = async (
    cookie: Cookie | null,
    what: string,
  ): Promise<[Session, ModelSession]> => {
    const session = await storage.read(cookie?.real ?? null);
    const modelled = model.read(cookie?.model ?? null);
    expect(
      session.id === cookie?.id,
      modelled.id === cookie?.modelId,
      `${what} resumes the session`,
    );
    expect(observe(session), observe(modelled), what);
    return [session, modelled];
  };
  for (const [n, request] of requests.entries()) {
    const sent = request.cookie === "current"
      ? current
      : request.cookie === "none" || issued.length === 0
      ? null
      : issued[request.cookie % issued.length];
    const pairs: [Session, ModelSession][] = [];
    for (let i = 0; i < (request.twice ? 2 : 1); i++) {
      pairs.push(await read(sent, `request ${n}: read ${i}`));
    }
    const cookies: (Cookie | "" | null)[] = [];
    const save = async ([session, modelled]: [Session, ModelSession]) => {
      const real = await storage.save(session);
      const expected = model.save(modelled);
      expect(
        real === null || real === "" ? real : "a value",
        expected === null || expected === "" ? expected : "a value",
        `request ${n}: save resolves to`,
      );
      if (real === null || real === "") cookies.push(real);
      else {
        const id = session.id;
        cookies.push({ real, model: expected!, id, modelId: modelled.id });
        issued.push(cookies.at(-1) as Cookie);
      }
    };
    for (const { on, call: c } of request.calls) {
      const pair = pairs[on] ?? pairs[0];
      const [session, modelled] = pair;
      const what = `request ${n}: session ${pairs.indexOf(pair)}.${c.call}(${
        "key" in c ? JSON.stringify(c.key) : ""
      }${"value" in c ? `, ${JSON.stringify(c.value)}` : ""}${
        "deleteOld" in c ? c.deleteOld : ""
      })`;
      const idBefore = session.id;
      if (c.call === "save") await save(pair);
      else {
        let threw = false;
        try {
          const got = perform(session, c);
          if (c.call === "get") {
            expect(got, modelled.get(c.key), `${what} returns`);
          }
        } catch {
          threw = true;
        }
        expect(threw, !modelled.apply(c, model.newId), `${what} throws`);
      }
      expect(
        session.id !== idBefore,
        c.call === "regenerateId" && !modelled.destroyed,
        `${what} changes the id`,
      );
      expect(observe(session), observe(modelled), `${what} leaves`);
    }
    for (const pair of pairs) await save(pair);
    // The client keeps the cookie of the last save that set one.
    const set = cookies.filter((cookie) => cookie !== null).at(-1);
    if (set !== undefined) current = set === "" ? null : set;
  }
  // Every cookie value ever given reads as the model says.
  for (const [n, cookie] of issued.entries()) {
    await read(cookie, `a last read of cookie ${n}`);
  }
}

const STORES = [
  {
    name: "memory",
    create: () => createMemorySessionStorage(),
    model: () => new ModelServerStore(),
    runs: 20,
  },
  {
    name: "fs",
    create: () => createFsSessionStorage(mkdtempSync(join(work, "fs-"))),
    model: () => new ModelServerStore(),
    runs: 1,
  },
  {
    name: "cookie",
    create: () => createCookieSessionStorage(),
    model: () => new ModelCookieStore(),
    runs: 5,
    // Each regenerateId(true) warns once per storage that the old cookie
    // stays valid; the warning has a test of its own.
    quiet: true,
  },
];

describe("session model", () => {
  for (const { name, create, model, runs, quiet } of STORES) {
    // The long form takes longer than Bun's default of 5 s per test.
    it(
      `${name} store: random requests of set, unset, flash, get, regenerateId, destroy and save, on one or two reads of the session, behave as the documented model says`,
      { timeout: 600_000 },
      async () => {
        const warn = console.warn;
        if (quiet) console.warn = () => {};
        try {
          await fc.assert(
            fc.asyncProperty(
              requests,
              (requests) => check(create(), model(), requests),
            ),
            { numRuns: NUM_RUNS * runs },
          );
        } finally {
          console.warn = warn;
        }
      },
    );
  }
});
