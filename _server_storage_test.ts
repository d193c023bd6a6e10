import { test } from "node:test";
import assert from "node:assert/strict";
import { Expiry } from "./_record.ts";
import {
  createServerSessionStorage,
  MAX_SAVE_TRIES,
  type RecordStore,
} from "./_server_storage.ts";

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
