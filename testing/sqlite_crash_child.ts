// The child process of sqlite_crash_test.ts, one of two that share one
// SQLite file. Two modes:
//
// <runtime> testing/sqlite_crash_child.ts crash STATE_FILE PART
//   Saves and regenerates the sessions of the slots whose number modulo 2 is
//   PART, in a loop, until it is killed, reporting each save (see
//   crash.ts). STATE_FILE holds {"file": string, "slots": [{"id", "v"}]}:
//   the session each slot continues from.
//
// <runtime> testing/sqlite_crash_child.ts keys FILE NAME ROUNDS START ID...
//   At the Unix time START (ms), so that both children run at once, sets
//   the keys NAME0 .. NAME<ROUNDS-1> of every session ID, one request per
//   key, all sessions at once, then prints "done".

import { readFileSync } from "node:fs";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { DatabaseSync } from "node:sqlite";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { report, saveSlotsInLoop, type Slot } from "./crash.ts";

async function crash(stateFile: string, part: number): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    file: string;
    slots: Slot[];
  };
  const { slots } = state;
  await saveSlotsInLoop(
    createSqliteSessionStorage(new DatabaseSync(state.file)),
    slots,
    slots.map((_, slot) => slot).filter((slot) => slot % 2 === part),
  );
}

async function keys(
  file: string,
  name: string,
  rounds: number,
  start: number,
  ids: string[],
): Promise<void> {
  const storage = createSqliteSessionStorage(new DatabaseSync(file));
  await sleep(start - Date.now());
  await Promise.all(ids.map(async (id) => {
    for (let round = 0; round < rounds; round++) {
      const session = await storage.read(id);
      session.set(`${name}${round}`, round);
      if (await storage.save(session) !== id) {
        report(`E ${name}${round} was not saved`);
        process.exit(3);
      }
    }
  }));
  report("done");
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "crash") await crash(args[0], Number(args[1]));
else {
  await keys(args[0], args[1], Number(args[2]), Number(args[3]), args.slice(4));
}
