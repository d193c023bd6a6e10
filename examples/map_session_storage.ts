// A complete session store made with the store kit: records in a Map, with
// a version number for the compare-and-set. conformance/README.md shows
// this file; examples/map_session_storage_test.ts runs the conformance
// suite on it.

import {
  createRecordSessionStorage,
  type RecordStore,
  type ServerSessionStorageOptions,
  type SessionStorage,
} from "../store_kit.ts";

export function createMapSessionStorage(
  options: ServerSessionStorageOptions = {},
): SessionStorage {
  const records = new Map<string, { text: string; version: number }>();
  let versions = 0;
  const store: RecordStore = {
    load(id) {
      return records.get(id);
    },
    // Synchronous, so nothing runs between the checks and the changes: a
    // database does the same in one transaction or conditional write.
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
    // An expired record a read found; the kit checks expiry on every load.
    async discard(id, version) {
      if (records.get(id)?.version === version) records.delete(id);
    },
  };
  return createRecordSessionStorage(store, options);
}
