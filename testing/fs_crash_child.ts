// The child process of fs_crash_test.ts: saves and regenerates sessions in
// an fs store in a loop until it is killed, reporting each save (see
// crash.ts).
//
// Usage: <runtime> testing/fs_crash_child.ts STATE_FILE
// STATE_FILE holds {"dir": string, "slots": [{"id": string|null, "v": number}]}:
// the session each slot continues from.

import { readFileSync } from "node:fs";
import { createFsSessionStorage } from "../fs_storage.ts";
import { saveSlotsInLoop, type Slot } from "./crash.ts";

const state = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8")) as {
  dir: string;
  slots: Slot[];
};
await saveSlotsInLoop(
  createFsSessionStorage(state.dir),
  state.slots,
  state.slots.map((_, slot) => slot),
);
