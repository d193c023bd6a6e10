// check: runtimes deno

// Crash safety of the fs store: a child process (Deno, then Node 26) saves
// and regenerates sessions in a loop and is killed with SIGKILL at a random
// moment, over and over; after each kill every session must read back whole,
// with the data the child last reported saved, or newer, and a session whose
// lock file the child left behind must take a save again (once the lock is
// stale, a second after it was taken: the time it took is printed).
//
// Runs 4 rounds by default and 24 with STRESS=1 (`deno task stress`). The
// child runs on the Deno and Node 26 binaries in node_modules/.bin, whatever
// runtime runs this file.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsSessionStorage } from "../fs_storage.ts";
import { filesBelow } from "./files.ts";
import * as crash from "./crash.ts";

const work = mkdtempSync(join(tmpdir(), "fs-crash-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The lock file the fs store takes while it saves session `id`. */
function lockFileOf(dir: string, id: string): string {
  const hash = createHash("sha256").update(id).digest("hex");
  return join(dir, hash.slice(0, 2), `${hash.slice(2)}.lock`);
}

describe("fs store crash safety", () => {
  it(
    `fs store: after ${crash.ROUNDS} SIGKILLs during saves and regenerations, every reported session reads back whole`,
    {
      timeout: 1_200_000,
    },
    async () => {
      const dir = join(work, "sessions");
      const stateFile = join(work, "state.json");
      let slots: crash.Slot[] = Array.from({ length: crash.SLOTS }, () => ({
        id: null,
        v: 0,
      }));
      const figures = {
        killed: 0,
        saves: 0,
        verified: 0,
        regenerations: 0,
        locksLeft: 0,
        maxBlockedMs: 0,
      };
      const perRuntime: Record<string, number> = {};

      for (let round = 0; round < crash.ROUNDS; round++) {
        const runtime = crash.RUNTIMES[round < crash.ROUNDS / 2 ? 0 : 1];
        writeFileSync(stateFile, JSON.stringify({ dir, slots }));
        const before = slots.map((slot) => ({ ...slot }));
        const killAfter = 1 +
          Math.floor(Math.random() * crash.MAX_SAVES_BEFORE_KILL);
        const pending: (crash.Pending | undefined)[] = Array(crash.SLOTS);
        const result = await crash.runChild(
          "fs_crash_child.ts",
          runtime.command,
          [stateFile],
          slots,
          pending,
          killAfter,
        );
        assert.equal(result.log.includes("E "), false, result.log);
        assert.ok(result.killed, `round ${round}: the child was not killed`);
        figures.killed++;
        figures.saves += result.saves;
        perRuntime[runtime.name] = (perRuntime[runtime.name] ?? 0) + 1;

        // Every session file on disk is whole; temporary files may not be,
        // and lock files hold nothing.
        crash.assertRecordsWhole(
          filesBelow(dir)
            .filter((file) => !file.endsWith(".tmp") && !file.endsWith(".lock"))
            .map((file) => readFileSync(file, "utf8")),
          round,
        );

        const storage = createFsSessionStorage(dir);
        // The old id may outlive a regeneration cut short: the fs store
        // deletes it only after the new one is written.
        const next = await crash.verifySlots(
          storage,
          slots,
          pending,
          (slot) => `round ${round} (${runtime.name}), slot ${slot}`,
          figures,
          { atomicMoves: false },
        );
        // A session whose lock the child held when it died takes a save
        // again: the lock is broken once stale.
        for (const [slot, { id, v }] of next.entries()) {
          if (id === null || !existsSync(lockFileOf(dir, id))) continue;
          figures.locksLeft++;
          const session = await storage.read(id);
          session.set("recovered", round);
          const started = Date.now();
          assert.equal(await storage.save(session), id, `slot ${slot}`);
          // How long the session stayed blocked: until this save, or less
          // when the checks of the other slots took the parent that long.
          figures.maxBlockedMs = Math.max(
            figures.maxBlockedMs,
            Date.now() - Math.max(started, result.killedAt),
          );
          const again = await storage.read(id);
          assert.equal(again.get("recovered"), round);
          assert.equal(again.get("v"), v, `slot ${slot}: nothing lost`);
          assert.equal(existsSync(lockFileOf(dir, id)), false);
        }
        // Ids that a reported regeneration deleted read as new sessions.
        await crash.assertReplacedIdsGone(storage, before, slots);
        slots = next;
      }
      console.log(
        `fs crash: ${figures.killed} SIGKILLs survived ` +
          `(${JSON.stringify(perRuntime)}), ${figures.saves} saves reported ` +
          `before the kills, ${figures.verified} session reads verified, ` +
          `0 sessions lost; ${figures.locksLeft} sessions locked by a ` +
          "killed child took a save again, the longest after waiting " +
          `${figures.maxBlockedMs} ms`,
      );
    },
  );
});
