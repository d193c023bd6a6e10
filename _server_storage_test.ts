import { test } from "node:test";
import assert from "node:assert/strict";
import { Expiry } from "./_record.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import {
  createServerSessionStorage,
  MAX_SAVE_TRIES,
  type RecordStore,
  setUpStore,
} from "./_server_storage.ts";

const SPEC = {
  factory: "createThingSessionStorage",
  argument: "client",
  what: "a Thing client",
  methods: ["get", "put"],
  index: { methods: ["scan"] },
  advice: "Pass a connected Thing client.",
  hint: "Check that Thing is up.",
};
const noop = () => {};

test("server storage: a backend that lacks a method the store calls is refused, naming the factory, the argument, the method and what to pass", () => {
  assert.throws(
    () => setUpStore(SPEC, { get: noop }, {}),
    {
      name: "TypeError",
      message: 'createThingSessionStorage: argument "client" must be a ' +
        'Thing client with a "put" method, got an object (Object). Pass a ' +
        "connected Thing client.",
    },
  );
  assert.throws(
    () => setUpStore(SPEC, null, {}),
    /argument "client" must be a Thing client with a "get" method, got null/,
  );
});

test("server storage: the methods the per-user index needs are required only with indexBy", () => {
  const client = { get: noop, put: noop };
  assert.equal(setUpStore(SPEC, client, {}).settings.indexBy, undefined);
  assert.throws(
    () => setUpStore(SPEC, client, { indexBy: "userId" }),
    {
      name: "TypeError",
      message: 'createThingSessionStorage: option "indexBy" needs client ' +
        'with the method "scan", got an object (Object). Pass a connected ' +
        "Thing client.",
    },
  );
  const indexed = setUpStore(SPEC, { ...client, scan: noop }, {
    indexBy: "userId",
  });
  assert.equal(indexed.settings.indexBy, "userId");
});

test("server storage: a failing backend call rejects with the factory, the action and the hint, its cause kept, and no key", async () => {
  const { call } = setUpStore(SPEC, { get: noop, put: noop }, {});
  const cause = new Error("connection refused");
  await assert.rejects(
    call("read a session", () => Promise.reject(cause)),
    (error: Error) => {
      assert.equal(
        error.message,
        "createThingSessionStorage: could not read a session (connection " +
          "refused). Check that Thing is up.",
      );
      assert.equal(error.cause, cause);
      return true;
    },
  );
  assert.equal(await call("read a session", () => Promise.resolve(7)), 7);
});

test("server storage: a save that another writer beats on every try gives up after MAX_SAVE_TRIES with a clear error", async () => {
  let version = 0;
  let writes = 0;
  // Every load finds a newer version, and every write finds it changed
  // again: another process that always lands first.
  const store: RecordStore = {
    load: () => ({
      text: JSON.stringify({ d: [{ n: 1 }, {}], e: null }),
      version: ++version,
    }),
    write: () => {
      writes++;
      return false;
    },
    delete: () => {},
  };
  const storage = createServerSessionStorage(store, {
    useUnknownIds: false,
    expiry: new Expiry(undefined),
  });
  const session = await storage.read("some-id");
  session.set("n", 2);
  await assert.rejects(
    storage.save(session),
    /Cannot save the session: 30 other saves of the same session landed/,
  );
  assert.equal(writes, MAX_SAVE_TRIES);
});

test("server storage: a session saved again in one request keeps its new changes, through regenerateId(true) and destroy, and stays ended once another request ended it", async () => {
  const storage = createMemorySessionStorage();
  const login = async () => {
    const first = await storage.read(null);
    first.set("theme", "dark");
    const session = await storage.read(await storage.save(first));
    session.set("userId", "mj");
    session.regenerateId(true);
    const cookie = (await storage.save(session))!;
    return { session, cookie };
  };
  // A request that saves twice, such as one that commits before it
  // streams its response and again at its end.
  const { session, cookie } = await login();
  session.set("cart", 1);
  assert.equal(await storage.save(session), cookie);
  assert.deepEqual((await storage.read(cookie)).data[0], {
    theme: "dark",
    userId: "mj",
    cart: 1,
  });
  // A second login in the same request moves the record that save wrote,
  // and a logout after it ends the session wherever it was written.
  session.regenerateId(true);
  const moved = (await storage.save(session))!;
  assert.equal((await storage.read(cookie)).size, 0);
  assert.equal((await storage.read(moved)).get("cart"), 1);
  session.destroy();
  assert.equal(await storage.save(session), "");
  assert.equal((await storage.read(moved)).size, 0);
  // Another request logs out in between: the second save must not write
  // the session back.
  const ended = await login();
  const logout = await storage.read(ended.cookie);
  logout.destroy();
  await storage.save(logout);
  ended.session.set("cart", 1);
  assert.equal(await storage.save(ended.session), null);
  assert.equal((await storage.read(ended.cookie)).size, 0);
});

test("server storage: destroySessions except the current session keeps it when the request gave it a new id before its save", async () => {
  const storage = createMemorySessionStorage({ indexBy: "userId" });
  const logIn = async () => {
    const session = await storage.read(null);
    session.set("userId", "mj");
    return (await storage.save(session))!;
  };
  const laptop = await logIn();
  const phone = await logIn();
  // A password change on the laptop: a new id, and the other devices out.
  const current = await storage.read(laptop);
  current.regenerateId(true);
  assert.equal(await storage.destroySessions("mj", { except: current }), 1);
  const cookie = await storage.save(current);
  assert.ok(cookie, "the current session is saved under its new id");
  assert.equal((await storage.read(cookie)).get("userId"), "mj");
  assert.equal((await storage.read(phone)).size, 0);
});

test("server storage: regenerateId(true) deletes the record the request read even after a save under an id from regenerateId()", async () => {
  const storage = createMemorySessionStorage();
  const first = await storage.read(null);
  first.set("userId", "guest");
  const read = (await storage.save(first))!;
  const session = await storage.read(read);
  // A request that commits once with a plain new id, then logs in.
  session.regenerateId();
  const between = (await storage.save(session))!;
  session.set("userId", "mj");
  session.regenerateId(true);
  const cookie = (await storage.save(session))!;
  assert.equal((await storage.read(cookie)).get("userId"), "mj");
  const old = await storage.read(read);
  assert.notEqual(old.id, read, "the id the request read is gone");
  assert.equal(old.get("userId"), undefined);
  // The record written in between moved to the new id.
  assert.notEqual((await storage.read(between)).id, between);
});

// A store on Maps whose index can run `between` after it gives a listing
// and before destroySessions goes on: the moment another request's save
// lands in.
function storeWithPausingIndex() {
  const records = new Map<string, { text: string; version: number }>();
  const users = new Map<string, Map<string, string>>();
  let versions = 0;
  const hooks: {
    between?: () => Promise<void>;
    beforeAdd?: () => Promise<void>;
    afterLoad?: () => Promise<void>;
  } = {};
  const store: RecordStore = {
    async load(id) {
      const record = records.get(id);
      const afterLoad = hooks.afterLoad;
      hooks.afterLoad = undefined;
      await afterLoad?.();
      return record;
    },
    write({ id, text, expected, oldId, oldExpected }) {
      if (records.get(id)?.version !== expected) return false;
      if (oldId !== undefined) {
        if (records.get(oldId)?.version !== oldExpected) return false;
        records.delete(oldId);
      }
      records.set(id, { text, version: ++versions });
      return true;
    },
    delete(ids) {
      for (const id of ids) records.delete(id);
    },
    index: {
      async add(user, handle, id) {
        const beforeAdd = hooks.beforeAdd;
        hooks.beforeAdd = undefined;
        await beforeAdd?.();
        users.set(user, (users.get(user) ?? new Map()).set(handle, id));
      },
      async entries(user) {
        const ids = [...users.get(user)?.values() ?? []];
        const between = hooks.between;
        hooks.between = undefined;
        await between?.();
        return ids;
      },
      remove(user, handles) {
        for (const handle of handles) users.get(user)?.delete(handle);
      },
    },
  };
  const storage = createServerSessionStorage(store, {
    useUnknownIds: false,
    expiry: new Expiry(undefined),
    indexBy: "userId",
  });
  return { storage, hooks };
}

// A user logged in on a phone, whose request read its session before the
// laptop's "log out everywhere" and gives it a new id: moved there by a
// password change (regenerateId(true)), or copied (regenerateId()).
async function phoneGettingNewId(deleteOld: boolean) {
  const { storage, hooks } = storeWithPausingIndex();
  const login = await storage.read(null);
  login.set("userId", "mj");
  const session = await storage.read((await storage.save(login))!);
  session.regenerateId(deleteOld);
  return { storage, hooks, session };
}

// Saves the phone's session while destroySessions runs: the save stops at
// the store call `pause` names, destroySessions goes as far as it goes
// without it (a turn of the event loop), then the save goes on.
async function saveDuringDestroy(
  { storage, hooks, session }: Awaited<ReturnType<typeof phoneGettingNewId>>,
  pause: "beforeAdd" | "afterLoad",
) {
  let resume!: () => void;
  hooks[pause] = () => new Promise((resolve) => resume = resolve);
  const saving = storage.save(session);
  const destroying = storage.destroySessions("mj");
  await new Promise((resolve) => setTimeout(resolve, 0));
  resume();
  return { saved: await saving, ended: await destroying };
}

test("server storage: destroySessions also ends a session that another request moved to a new id while it listed them", async () => {
  const { storage, hooks, session } = await phoneGettingNewId(true);
  // Its save lands once the listing named only the old id.
  let renewed: string | "" | null = null;
  hooks.between = async () => {
    renewed = await storage.save(session);
  };
  assert.equal(await storage.destroySessions("mj"), 1);
  assert.ok(renewed, "the phone's save landed under a new id meanwhile");
  assert.equal((await storage.read(renewed)).get("userId"), undefined);
  assert.deepEqual(await storage.listSessions("mj"), []);
});

test("server storage: destroySessions waits for a save in this process that moved a session but has not indexed its new id yet", async () => {
  const phone = await phoneGettingNewId(true);
  // The save wrote the session under its new id and deleted the old one;
  // its index entry is still on its way when "log out everywhere" lists.
  const { saved, ended } = await saveDuringDestroy(phone, "beforeAdd");
  assert.ok(saved, "the phone's save went through");
  assert.equal(ended, 1);
  assert.equal((await phone.storage.read(saved)).get("userId"), undefined);
});

test("server storage: destroySessions ends a session that a save in this process copies to a new id while it runs", async () => {
  // regenerateId() keeps the old record: the save copies it to the new id,
  // once it has found the old one still there.
  const phone = await phoneGettingNewId(false);
  phone.session.set("theme", "dark");
  const { saved, ended } = await saveDuringDestroy(phone, "afterLoad");
  assert.ok(saved, "the copy was written");
  assert.equal(ended, 2, "the old session and its copy");
  assert.equal((await phone.storage.read(saved)).get("userId"), undefined);
});
