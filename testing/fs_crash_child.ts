// The child process of fs_crash_test.ts: saves and regenerates
// sessions in an fs store in a loop until it is killed, and reports on
// stdout, synchronously, each save before it starts and after it completes.
//
// Usage: <runtime> testing/fs_crash_child.ts STATE_FILE
// STATE_FILE holds {"dir": string, "slots": [{"id": string|null, "v": number}]}:
// the session each slot continues from. Lines written:
//   R                          ready: every slot was read back as expected
//   B slot oldId newId v       about to save slot at version v under newId
//   S slot id v                slot saved at version v under id
//   E message                  the store returned something unexpected
// It stops by itself after MAX_OPS saves or MAX_MS milliseconds.

import { readFileSync, writeSync } from "node:fs";
import { createFsSessionStorage } from "../fs_storage.ts";
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

async function main(stateFile: string): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    dir: string;
    slots: Slot[];
  };
  const storage = createFsSessionStorage(state.dir);
  const slots = state.slots;

  // Verify and adopt where the previous child left off.
  for (let slot = 0; slot < slots.length; slot++) {
    const { id, v } = slots[slot];
    if (id === null) continue;
    check(await storage.read(id), slot, v);
  }
  report("R");

  const started = Date.now();
  let ops = 0;
  async function worker(first: number): Promise<void> {
    if (first >= slots.length) return;
    // Each worker owns the slots first, first + WORKERS, ...: one save at a
    // time per slot, so the parent knows which versions can be on disk.
    for (
      let slot = first;;
      slot = slot + WORKERS < slots.length ? slot + WORKERS : first
    ) {
      if (++ops > MAX_OPS || Date.now() - started > MAX_MS) return;
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

await main(process.argv[2] ?? "");
