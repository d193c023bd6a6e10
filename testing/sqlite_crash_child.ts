// The child process of sqlite_crash_test.ts, one of two that share one
// SQLite file. Two modes:
//
// <runtime> testing/sqlite_crash_child.ts crash STATE_FILE PART
//   Saves and regenerates the sessions of the slots whose number modulo 2 is
//   PART, in a loop, until it is killed, and reports on stdout,
//   synchronously, each save before it starts and after it completes:
//     R                        ready: every slot was read back as expected
//     B slot oldId newId v     about to save slot at version v under newId
//     S slot id v              slot saved at version v under id
//     E message                the store returned something unexpected
//   STATE_FILE holds {"file": string, "slots": [{"id", "v"}]}: the session
//   each slot continues from. It stops by itself after MAX_OPS saves or
//   MAX_MS milliseconds.
//
// <runtime> testing/sqlite_crash_child.ts keys FILE NAME ROUNDS START ID...
//   At the Unix time START (ms), so that both children run at once, sets
//   the keys NAME0 .. NAME<ROUNDS-1> of every session ID, one request per
//   key, all sessions at once, then prints "done".

import { readFileSync, writeSync } from "node:fs";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { DatabaseSync } from "node:sqlite";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import type { Session } from "../session.ts";
import { padFor } from "./crash_data.ts";

const MAX_OPS = 200_000;
const MAX_MS = 60_000;
const WORKERS = 8;

interface Slot {
  id: string | null;
  v: number;
}

function report(line: string): void {
  // Synchronous, so a line is out before the next operation starts.
  writeSync(1, line + "\n");
}

function check(session: Session, slot: number, v: number): void {
  const ok = session.get("slot") === slot && session.get("v") === v &&
    session.get("pad") === padFor(slot, v);
  if (!ok) {
    report(
      `E slot ${slot} expected v ${v}, read slot ${session.get("slot")} ` +
        `v ${session.get("v")}`,
    );
    process.exit(3);
  }
}

async function crash(stateFile: string, part: number): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    file: string;
    slots: Slot[];
  };
  const storage = createSqliteSessionStorage(new DatabaseSync(state.file));
  const slots = state.slots;
  const mine = slots.map((_, slot) => slot).filter((slot) => slot % 2 === part);

  for (const slot of mine) {
    const { id, v } = slots[slot];
    if (id !== null) check(await storage.read(id), slot, v);
  }
  report("R");

  const started = Date.now();
  let ops = 0;
  // Each worker owns every WORKERS-th slot of this process: one save at a
  // time per slot, so the parent knows which versions can be stored.
  async function worker(first: number): Promise<void> {
    const owned = mine.filter((_, index) => index % WORKERS === first);
    for (let turn = 0; owned.length > 0; turn++) {
      if (++ops > MAX_OPS || Date.now() - started > MAX_MS) return;
      const slot = owned[turn % owned.length];
      const current = slots[slot];
      const session = await storage.read(current.id);
      if (current.id !== null) check(session, slot, current.v);
      const v = current.id === null ? 1 : current.v + 1;
      session.set("slot", slot);
      session.set("v", v);
      session.set("pad", padFor(slot, v));
      if (current.id !== null && Math.random() < 0.3) {
        session.regenerateId(true);
        report(`B ${slot} ${current.id} ${session.id} ${v}`);
      }
      const cookie = await storage.save(session);
      if (cookie !== session.id) {
        report(`E slot ${slot} save returned ${cookie}`);
        process.exit(3);
      }
      slots[slot] = { id: session.id, v };
      report(`S ${slot} ${session.id} ${v}`);
    }
  }
  await Promise.all(
    Array.from({ length: WORKERS }, (_, first) => worker(first)),
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
