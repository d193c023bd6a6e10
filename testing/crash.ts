// The crash driver shared by the crash tests of the fs and SQLite stores
// and their child processes. A child saves and regenerates the sessions of
// numbered slots in a loop and reports on stdout, synchronously, each save
// before it starts and after it completes:
//   R                        ready: every slot was read back as expected
//   B slot oldId newId v     about to save slot at version v under newId
//   S slot id v              slot saved at version v under id
//   E message                the store returned something unexpected
// The parent kills it with SIGKILL after a random number of saves, then
// checks that every slot reads back whole, with the version the child last
// reported saved, or newer.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeSync } from "node:fs";
import process from "node:process";
import type { Session, SessionStorage } from "../session.ts";
import { decodeRecord } from "../_record.ts";
import { repoPath } from "./repo_root.ts";

const STRESS = process.env.STRESS === "1";
/** Rounds of kills: 4, or 24 with STRESS=1 (`deno task stress`). */
export const ROUNDS = STRESS ? 24 : 4;
/** The sessions a crash test keeps. */
export const SLOTS = 300;
/** A child is killed after a random number of its saves up to this. */
export const MAX_SAVES_BEFORE_KILL = STRESS ? 4000 : 1500;
// A child that never gets that far is killed after this long anyway.
const ROUND_LIMIT_MS = 90_000;
// A child stops by itself after this many saves or milliseconds.
const MAX_OPS = 200_000;
const MAX_MS = 60_000;
const WORKERS = 8;

/** The runtimes children run on: the binaries in node_modules/.bin. */
export const RUNTIMES: { name: string; command: string[] }[] = [
  {
    name: "deno",
    command: [repoPath("node_modules", ".bin", "deno"), "run", "-A"],
  },
  { name: "node", command: [repoPath("node_modules", ".bin", "node")] },
];

/** The session of a slot: its id (null before its first save) and version. */
export interface Slot {
  id: string | null;
  v: number;
}

/** A regeneration a child reported starting, and not yet finishing. */
export interface Pending {
  oldId: string;
  newId: string;
  v: number;
}

/** What a child did before it was killed or finished. */
export interface ChildResult {
  killed: boolean;
  /** When the child was killed, in ms since the epoch. */
  killedAt: number;
  saves: number;
  /** Its `E` lines and its error output. */
  log: string;
  /** Everything it printed on stdout. */
  out: string;
}

/**
 * The value a crash-test session holds in `slot` at version `v`: its size
 * varies from save to save, and its content says which save wrote it.
 */
export function padFor(slot: number, v: number): string {
  return `${slot}.${v}|`.repeat(1 + ((slot * 31 + v * 17) % 400));
}

/**
 * Runs `child` (a file in testing/) with `args` on `command`, feeding its
 * reports into `slots` and `pending`, and kills it once it has reported
 * `killAfter` saves (with `killAfter` Infinity, waits for it to finish).
 */
export function runChild(
  child: string,
  command: string[],
  args: string[],
  slots: Slot[],
  pending: (Pending | undefined)[],
  killAfter: number,
): Promise<ChildResult> {
  let saves = 0;
  let killed = false;
  let killedAt = 0;
  let buffered = "";
  let out = "";
  let log = "";
  const running = spawn(
    command[0],
    [...command.slice(1), repoPath("testing", child), ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const kill = () => {
    if (killed || running.exitCode !== null) return;
    killed = true;
    killedAt = Date.now();
    running.kill("SIGKILL");
  };
  const limit = setTimeout(kill, ROUND_LIMIT_MS);

  function onLine(line: string): void {
    out += line + "\n";
    const [kind, ...rest] = line.split(" ");
    if (kind === "B") {
      const [slot, oldId, newId, v] = rest;
      pending[Number(slot)] = { oldId, newId, v: Number(v) };
    } else if (kind === "S") {
      const [slot, id, v] = rest;
      slots[Number(slot)] = { id, v: Number(v) };
      pending[Number(slot)] = undefined;
      if (++saves >= killAfter) kill();
    } else if (kind === "E") {
      log += line + "\n";
    }
  }

  running.stdout.setEncoding("utf8");
  running.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    // Lines that arrive after the kill were written before it: still true.
    for (const line of lines) onLine(line);
  });
  running.stderr.setEncoding("utf8");
  running.stderr.on("data", (chunk: string) => log += chunk);

  return new Promise((resolve, reject) => {
    running.on("error", reject);
    running.on("close", (code, signal) => {
      clearTimeout(limit);
      if (buffered) onLine(buffered);
      if (!killed && code !== 0) {
        reject(new Error(`child exited with ${code ?? signal}: ${log}`));
      } else resolve({ killed, killedAt, saves, log, out });
    });
  });
}

/** Checks that every stored record, as `texts`, is whole after round `round`. */
export function assertRecordsWhole(texts: Iterable<string>, round: number) {
  for (const text of texts) {
    assert.ok(
      decodeRecord(text),
      `round ${round}: a stored session is not whole`,
    );
  }
}

/** What {@linkcode verifySlots} counted. */
export interface Verified {
  verified: number;
  regenerations: number;
}

/**
 * Checks, after a kill, that every slot reads back from `storage` with the
 * version last reported saved, or the one in flight; a slot killed during a
 * regeneration holds the new version under the new id or the old one under
 * the old id (and with `atomicMoves`, the old id is gone once the new one
 * holds it). `where` names a slot in failure messages. Returns the slots as
 * they are now.
 */
export async function verifySlots(
  storage: SessionStorage,
  slots: Slot[],
  pending: (Pending | undefined)[],
  where: (slot: number) => string,
  figures: Verified,
  { atomicMoves }: { atomicMoves: boolean },
): Promise<Slot[]> {
  const next: Slot[] = [];
  for (let slot = 0; slot < slots.length; slot++) {
    const { id, v } = slots[slot];
    if (id === null) {
      next.push({ id, v });
      continue;
    }
    const moving = pending[slot];
    if (moving) {
      assert.equal(moving.oldId, id, where(slot));
      const fresh = await storage.read(moving.newId);
      if (fresh.get("v") === moving.v) {
        assert.equal(fresh.get("pad"), padFor(slot, moving.v), where(slot));
        if (atomicMoves) {
          assert.notEqual((await storage.read(id)).id, id, where(slot));
        }
        next.push({ id: moving.newId, v: moving.v });
        figures.regenerations++;
      } else {
        const old = await storage.read(id);
        assert.equal(old.get("v"), v, `${where(slot)}: old session lost`);
        assert.equal(old.get("pad"), padFor(slot, v), where(slot));
        next.push({ id, v });
      }
    } else {
      // The save in flight at the kill may have landed: v or v + 1.
      const session = await storage.read(id);
      const read = session.get("v") as number;
      assert.ok(
        read === v || read === v + 1,
        `${where(slot)}: expected v ${v} or ${v + 1}, read ${read}`,
      );
      assert.equal(session.get("slot"), slot, where(slot));
      assert.equal(session.get("pad"), padFor(slot, read), where(slot));
      next.push({ id, v: read });
    }
    figures.verified++;
  }
  return next;
}

/** Checks that the ids a reported regeneration replaced read as new sessions. */
export async function assertReplacedIdsGone(
  storage: SessionStorage,
  before: Slot[],
  after: Slot[],
): Promise<void> {
  for (let slot = 0; slot < before.length; slot++) {
    const old = before[slot].id;
    if (old !== null && old !== after[slot].id) {
      assert.notEqual((await storage.read(old)).id, old, `slot ${slot}`);
    }
  }
}

/** Prints one report line; synchronous, so it is out before the next save. */
export function report(line: string): void {
  writeSync(1, line + "\n");
}

/** Checks that `session` is `slot` at version `v`; exits the child if not. */
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

/**
 * The child's side: checks that the slots of `mine` read back as `slots`
 * says, reports `R`, then saves and regenerates them in a loop, reporting
 * each save, until it is killed or MAX_OPS saves or MAX_MS have passed.
 */
export async function saveSlotsInLoop(
  storage: SessionStorage,
  slots: Slot[],
  mine: number[],
): Promise<void> {
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
