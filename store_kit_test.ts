// What the store kit does beyond the conformance run on the Map store of
// examples/map_session_storage_test.ts: its argument and option errors,
// maxLifetime, a store with a per-user index (and the conformance suite on
// it), asynchronous primitives, `accepts`, `discard`, and a failing backend.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createRecordSessionStorage,
  type RecordIndex,
  type RecordStore,
  type RecordWrite,
} from "./store_kit.ts";
import { sessionStorageCases, testSessionStorage } from "./conformance/mod.ts";
import { setTimeout as sleep } from "node:timers/promises";
import { withClock } from "./testing/clock.ts";

/**
 * A store on a Map with the kit's contract; `calls` names the primitives
 * called, in order. Its primitives answer through promises when `async`.
 */
function mapStore({ async = false, index = false } = {}) {
  const records = new Map<string, { text: string; version: number }>();
  const calls: string[] = [];
  let versions = 0;
  const answer = <T>(value: T) => async ? Promise.resolve(value) : value;
  const store = {
    load(id: string) {
      calls.push("load");
      return answer(records.get(id));
    },
    write({ id, text, expected, oldId, oldExpected }: RecordWrite) {
      calls.push("write");
      if (records.get(id)?.version !== expected) return answer(false);
      if (oldId !== undefined) {
        if (records.get(oldId)?.version !== oldExpected) return answer(false);
        records.delete(oldId);
      }
      records.set(id, { text, version: ++versions });
      return answer(true);
    },
    delete(ids: readonly string[]) {
      calls.push("delete");
      for (const id of ids) records.delete(id);
      return answer(undefined);
    },
    index: index ? mapIndex() : undefined,
  } satisfies RecordStore;
  return { store, records, calls };
}

type IndexFault = "keeps one session per user" | "loses adds that overlap";

/** A per-user index on a Map: user key -> handle -> id; with `fault`, broken. */
function mapIndex(fault?: IndexFault): RecordIndex {
  const users = new Map<string, Map<string, string>>();
  return {
    add(user, handle, id) {
      if (fault === "keeps one session per user") {
        users.set(user, new Map([[handle, id]]));
      } else if (fault === "loses adds that overlap") {
        // A read-modify-write with a round trip in between.
        const entries = new Map(users.get(user));
        return sleep(1).then(() => users.set(user, entries.set(handle, id)));
      } else users.set(user, (users.get(user) ?? new Map()).set(handle, id));
    },
    entries: (user) => users.get(user)?.values() ?? [],
    remove(user, handles) {
      for (const handle of handles) users.get(user)?.delete(handle);
    },
  };
}

describe("store kit", () => {
  it("store kit: a store that lacks load, write or delete is refused with an error naming the argument and the method", () => {
    for (const method of ["load", "write", "delete"] as const) {
      const { store } = mapStore();
      const { [method]: _, ...lacking } = store;
      assert.throws(
        () => createRecordSessionStorage(lacking as RecordStore),
        {
          name: "TypeError",
          message: 'createRecordSessionStorage: argument "store" must be a ' +
            `record store with a "${method}" method, got an object ` +
            "(Object). Implement load(id), write(record) and delete(ids) " +
            "on your backend; conformance/README.md shows a complete store.",
        },
      );
    }
    assert.throws(
      () => createRecordSessionStorage(null as unknown as RecordStore),
      /argument "store" must be a record store with a "load" method, got null/,
    );
  });

  it("store kit: a bad ttl, maxLifetime or useUnknownIds is refused with an error naming the option and the value", () => {
    const { store } = mapStore();
    for (const ttl of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => createRecordSessionStorage(store, { ttl }), {
        name: "RangeError",
        message: `createRecordSessionStorage: option "ttl" must be a ` +
          `positive number of seconds, at most 1e12 (about 31,700 years), got ${ttl}. ` +
          "Omit it for sessions that never expire.",
      });
    }
    assert.throws(
      () => createRecordSessionStorage(store, { maxLifetime: -5 }),
      /^RangeError: createRecordSessionStorage: option "maxLifetime" must be a positive number of seconds, at most 1e12 \(about 31,700 years\), got -5\./,
    );
    assert.throws(
      () =>
        createRecordSessionStorage(store, {
          useUnknownIds: "yes" as unknown as boolean,
        }),
      /^TypeError: createRecordSessionStorage: option "useUnknownIds" must be true or false, got a string of 3 characters\./,
    );
  });

  it("store kit: indexBy is refused for a store without a complete index, naming the method it lacks", () => {
    const { store } = mapStore();
    assert.throws(
      () => createRecordSessionStorage(store, { indexBy: "userId" }),
      {
        name: "TypeError",
        message: 'createRecordSessionStorage: option "indexBy" needs ' +
          'store.index with the method "add", got undefined. Give the store ' +
          "a per-user index (see RecordIndex), or leave indexBy out.",
      },
    );
    const { index: _, ...lacking } = mapStore({ index: true }).store;
    assert.throws(
      () =>
        createRecordSessionStorage(
          {
            ...lacking,
            index: { ...mapIndex(), remove: undefined },
          } as unknown as RecordStore,
          { indexBy: "userId" },
        ),
      /option "indexBy" needs store\.index with the method "remove", got an object/,
    );
  });

  it("store kit: an index whose entries gives pairs instead of ids fails listSessions with an error that says so", async () => {
    const { store } = mapStore();
    const users = new Map<string, Map<string, string>>();
    const storage = createRecordSessionStorage({
      ...store,
      index: {
        add(user, handle, id) {
          users.set(user, (users.get(user) ?? new Map()).set(handle, id));
        },
        // The mistake under test: the Map, whose entries are [handle, id].
        entries: (user) =>
          (users.get(user) ?? []) as unknown as Iterable<string>,
        remove(user, handles) {
          for (const handle of handles) users.get(user)?.delete(handle);
        },
      },
    }, { indexBy: "userId" });
    const session = await storage.read(null);
    session.set("userId", "ada");
    await storage.save(session);
    await assert.rejects(storage.listSessions("ada"), {
      name: "TypeError",
      message: "Cannot list the user's sessions: the store's index.entries " +
        "gave an array of 2 items where a session id belongs. Give the ids " +
        "that add was given, such as a Map's values(), not the Map.",
    });
  });

  it("store kit: a store with an index lists and ends a user's sessions", async () => {
    const { store } = mapStore({ index: true });
    const storage = createRecordSessionStorage(store, { indexBy: "userId" });
    const cookies: string[] = [];
    for (const _ of [1, 2]) {
      const session = await storage.read(null);
      session.set("userId", "ada");
      cookies.push((await storage.save(session))!);
    }
    assert.equal((await storage.listSessions("ada")).length, 2);
    const kept = await storage.read(cookies[0]);
    assert.equal(await storage.destroySessions("ada", { except: kept }), 1);
    assert.equal((await storage.read(cookies[1])).get("userId"), undefined);
    assert.equal((await storage.read(cookies[0])).get("userId"), "ada");
  });

  it("store kit: maxLifetime ends a session in use at its creation time plus maxLifetime", () =>
    withClock(async (clock) => {
      const { store } = mapStore();
      const storage = createRecordSessionStorage(store, {
        ttl: 60,
        maxLifetime: 100,
      });
      const session = await storage.read(null);
      session.set("n", 0);
      const cookie = (await storage.save(session))!;
      const created = clock.now;
      // Used every 50 s, so the ttl never runs out.
      for (let n = 1; clock.now + 50_000 < created + 100_000; n++) {
        clock.now += 50_000;
        const used = await storage.read(cookie);
        assert.equal(used.get("n"), n - 1, "the session lives on in use");
        used.set("n", n);
        await storage.save(used);
      }
      clock.now = created + 100_000;
      const ended = await storage.read(cookie);
      assert.notEqual(ended.id, cookie);
      assert.equal(ended.size, 0);
    }));

  it("store kit: a store whose primitives answer through promises reads, saves, regenerates and destroys", async () => {
    const { store, records } = mapStore({ async: true });
    const storage = createRecordSessionStorage(store);
    const first = await storage.read(null);
    first.set("n", 1);
    const cookie = (await storage.save(first))!;
    const login = await storage.read(cookie);
    assert.equal(login.get("n"), 1);
    login.regenerateId(true);
    const moved = (await storage.save(login))!;
    assert.deepEqual([...records.keys()], [moved]);
    const logout = await storage.read(moved);
    assert.equal(logout.get("n"), 1);
    logout.destroy();
    assert.equal(await storage.save(logout), "");
    assert.equal(records.size, 0);
  });

  it("store kit: an id the store does not accept is never looked up, and is not adopted", async () => {
    const { store, calls } = mapStore();
    const storage = createRecordSessionStorage({
      ...store,
      accepts: (id) => id.length <= 8,
    }, { useUnknownIds: true });
    const refused = await storage.read("x".repeat(9));
    assert.notEqual(refused.id, "x".repeat(9));
    assert.deepEqual(calls, []);
    assert.equal((await storage.read("short")).id, "short");
    assert.deepEqual(calls, ["load"]);
  });

  it("store kit: an expired record is discarded with the version it was read at, and a failing discard still reads as a new session", () =>
    withClock(async (clock) => {
      const { store, records } = mapStore();
      const discarded: [string, unknown][] = [];
      let failing = false;
      const storage = createRecordSessionStorage({
        ...store,
        discard: async (id, version) => {
          discarded.push([id, version]);
          if (failing) throw new Error("backend down");
        },
      }, { ttl: 60 });
      for (failing of [false, true]) {
        const session = await storage.read(null);
        session.set("n", 1);
        const cookie = (await storage.save(session))!;
        const { version } = records.get(cookie)!;
        clock.now += 60_000;
        const expired = await storage.read(cookie);
        assert.notEqual(expired.id, cookie);
        assert.equal(expired.size, 0);
        assert.deepEqual(discarded.pop(), [cookie, version]);
      }
    }));

  it("store kit: a discard that answers at once, or throws, still reads an expired record as a new session", () =>
    withClock(async (clock) => {
      const { store, records } = mapStore();
      // A store written in JavaScript, with no types to say that discard
      // returns a promise.
      const discards = [
        (id: string) => void records.delete(id),
        () => {
          throw new Error("backend down");
        },
      ];
      for (const discard of discards) {
        const storage = createRecordSessionStorage({
          ...store,
          discard,
        } as unknown as RecordStore, { ttl: 60 });
        const session = await storage.read(null);
        session.set("n", 1);
        const cookie = (await storage.save(session))!;
        clock.now += 60_000;
        const expired = await storage.read(cookie);
        assert.notEqual(expired.id, cookie);
        assert.equal(expired.size, 0);
      }
    }));

  it("store kit: a load that answers null for a missing record, as Redis GET does, reads as a new session and never brings back one ended meanwhile", async () => {
    const { store } = mapStore();
    const storage = createRecordSessionStorage({
      ...store,
      load: (id) => store.load(id) ?? null,
    });
    const unknown = await storage.read("an id it never issued");
    assert.notEqual(unknown.id, "an id it never issued");
    assert.equal(unknown.size, 0);
    const first = await storage.read(null);
    first.set("n", 1);
    const cookie = (await storage.save(first))!;
    const [busy, logout] = [
      await storage.read(cookie),
      await storage.read(cookie),
    ];
    logout.destroy();
    assert.equal(await storage.save(logout), "");
    busy.set("n", 2);
    assert.equal(await storage.save(busy), null, "the logout stays final");
    assert.equal((await storage.read(cookie)).size, 0);
  });

  it("store kit: a load that answers the text alone, or a text that is no string, rejects the read with an error that says what belongs there", async () => {
    const { store } = mapStore();
    const plain = createRecordSessionStorage(store);
    const session = await plain.read(null);
    session.set("n", 1);
    const cookie = (await plain.save(session))!;
    for (
      const [load, described] of [
        [
          async (id: string) => (await store.load(id))?.text,
          "a string of \\d+ characters",
        ],
        [
          async (id: string) => ({
            text: JSON.parse((await store.load(id))!.text),
            version: 1,
          }),
          "an object \\(Object\\) whose text is an object \\(Object\\)",
        ],
      ] as const
    ) {
      const storage = createRecordSessionStorage({
        ...store,
        load: load as unknown as RecordStore["load"],
      });
      await assert.rejects(
        storage.read(cookie),
        new RegExp(
          `^TypeError: Cannot read the session: the store's load answered ` +
            `${described}, where \\{ text: a string, version \\} or ` +
            "undefined belongs\\.$",
        ),
      );
    }
  });

  it("store kit: a write that fails rejects the save with its error, and the session reads as it was", async () => {
    const { store } = mapStore();
    let failing = false;
    const storage = createRecordSessionStorage({
      ...store,
      write: (write) => {
        if (failing) return Promise.reject(new Error("disk full"));
        return store.write(write);
      },
    });
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = (await storage.save(session))!;
    failing = true;
    const change = await storage.read(cookie);
    change.set("n", 2);
    await assert.rejects(storage.save(change), /^Error: disk full$/);
    failing = false;
    assert.equal((await storage.read(cookie)).get("n"), 1);
  });

  it("store kit: a write that answers neither true nor false, such as a fetch Response or its text, rejects the save with an error that says so", async () => {
    for (
      const [answer, described] of [
        [new Response("false"), /an object \(Response(\$1)?\)/],
        ["false", /a string of 5 characters/],
        [undefined, /undefined/],
      ] as const
    ) {
      const { store } = mapStore();
      const storage = createRecordSessionStorage({
        ...store,
        write: (write) => {
          store.write(write);
          return answer as unknown as boolean;
        },
      });
      const session = await storage.read(null);
      session.set("n", 1);
      await assert.rejects(storage.save(session), {
        name: "TypeError",
        // Bun names the class of a Response "Response$1".
        message: new RegExp(
          "^Cannot save the session: the store's write answered " +
            `${described.source}, not true or false\\. Answer true when it ` +
            "wrote the record, false when a version check failed\\.$",
        ),
      });
    }
  });
});

testSessionStorage({
  name: "store kit with an index",
  create: (options) =>
    createRecordSessionStorage(mapStore({ index: true }).store, options),
  ttl: 0.5,
  maxLifetime: 1,
  index: true,
  maxValueBytes: 1_000_000,
  cookieSafeValues: true,
});

const indexFaults: [IndexFault, string, RegExp][] = [
  [
    "keeps one session per user",
    "listSessions lists each live session of a user once, with its times, by a handle that is not its id",
    /: ann has two sessions, but listSessions gives 1\n/,
  ],
  [
    "loses adds that overlap",
    "sessions logged in at once are all listed, and logouts that overlap other requests stay final",
    /: 10 sessions logged in at once must all be listed, but listSessions gives 1\n/,
  ],
];

for (const [fault, rule, message] of indexFaults) {
  it(`conformance suite: catches a store whose index ${fault}: ${rule}, saying how many sessions it listed`, async () => {
    const name = `store whose index ${fault}`;
    const failing = sessionStorageCases({
      name,
      create: (options) =>
        createRecordSessionStorage(
          { ...mapStore().store, index: mapIndex(fault) },
          options,
        ),
      index: true,
    }).find((c) => c.name === `${name}: ${rule}`)!;
    await assert.rejects(failing.fn(), message);
  });
}
