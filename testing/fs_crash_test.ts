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
import { spawn } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsSessionStorage } from "../fs_storage.ts";
import { decodeRecord } from "../_record.ts";
import { padFor } from "./crash_data.ts";
import { repoPath } from "./repo_root.ts";

const STRESS = process.env.STRESS === "1";
const ROUNDS = STRESS ? 24 : 4;
const SLOTS = 300;
// The child is killed after a random number of reported saves up to this.
const MAX_SAVES_BEFORE_KILL = STRESS ? 4000 : 1500;
// A round whose child never gets that far is killed after this long anyway.
const ROUND_LIMIT_MS = 90_000;

const CHILD = repoPath("testing", "fs_crash_child.ts");
const RUNTIMES: { name: string; command: string[] }[] = [
  {
    name: "deno",
    command: [repoPath("node_modules", ".bin", "deno"), "run", "-A"],
  },
  { name: "node", command: [repoPath("node_modules", ".bin", "node")] },
];

interface Slot {
  id: string | null;
  v: number;
}

interface Pending {
  oldId: string;
  newId: string;
  v: number;
}

interface RoundResult {
  killed: boolean;
  /** When the child was killed, in ms since the epoch. */
  killedAt: number;
  saves: number;
  pending: (Pending | undefined)[];
  log: string;
}

const work = mkdtempSync(join(tmpdir(), "fs-crash-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** Runs one child until it has reported `killAfter` saves, then kills it. */
function runChild(
  command: string[],
  stateFile: string,
  slots: Slot[],
  killAfter: number,
): Promise<RoundResult> {
  const pending: (Pending | undefined)[] = Array(slots.length);
  let saves = 0;
  let killed = false;
  let killedAt = 0;
  let buffered = "";
  let errors = "";
  const child = spawn(command[0], [...command.slice(1), CHILD, stateFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = () => {
    if (killed || child.exitCode !== null) return;
    killed = true;
    killedAt = Date.now();
    child.kill("SIGKILL");
  };
  const limit = setTimeout(kill, ROUND_LIMIT_MS);

  function onLine(line: string): void {
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
      errors += line + "\n";
    }
  }

  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    // Lines that arrive after the kill were written before it: still true.
    for (const line of lines) onLine(line);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => errors += chunk);

  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      if (buffered) onLine(buffered);
      if (!killed && code !== 0) {
        reject(new Error(`child exited with ${code ?? signal}: ${errors}`));
      } else resolve({ killed, killedAt, saves, pending, log: errors });
    });
  });
}

/** The lock file the fs store takes while it saves session `id`. */
function lockFileOf(dir: string, id: string): string {
  const hash = createHash("sha256").update(id).digest("hex");
  return join(dir, hash.slice(0, 2), `${hash.slice(2)}.lock`);
}

function listFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listFiles(path));
    else files.push(path);
  }
  return files;
}

describe("fs store crash safety", () => {
  it(
    `fs store: after ${ROUNDS} SIGKILLs during saves and regenerations, every reported session reads back whole`,
    {
      timeout: 1_200_000,
    },
    async () => {
      const dir = join(work, "sessions");
      const stateFile = join(work, "state.json");
      let slots: Slot[] = Array.from({ length: SLOTS }, () => ({
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

      for (let round = 0; round < ROUNDS; round++) {
        const runtime = RUNTIMES[round < ROUNDS / 2 ? 0 : 1];
        writeFileSync(stateFile, JSON.stringify({ dir, slots }));
        const before = slots.map((slot) => ({ ...slot }));
        const killAfter = 1 + Math.floor(Math.random() * MAX_SAVES_BEFORE_KILL);
        const result = await runChild(
          runtime.command,
          stateFile,
          slots,
          killAfter,
        );
        assert.equal(result.log.includes("E "), false, result.log);
        assert.ok(result.killed, `round ${round}: the child was not killed`);
        figures.killed++;
        figures.saves += result.saves;
        perRuntime[runtime.name] = (perRuntime[runtime.name] ?? 0) + 1;

        // Every session file on disk is whole; temporary files may not be,
        // and lock files hold nothing.
        for (const file of listFiles(dir)) {
          if (file.endsWith(".tmp") || file.endsWith(".lock")) continue;
          assert.ok(
            decodeRecord(readFileSync(file, "utf8")),
            `round ${round}: a session file is not whole`,
          );
        }

        const storage = createFsSessionStorage(dir);
        const next: Slot[] = [];
        for (let slot = 0; slot < SLOTS; slot++) {
          const { id, v } = slots[slot];
          const pending = result.pending[slot];
          const where = `round ${round} (${runtime.name}), slot ${slot}`;
          if (id === null) {
            next.push({ id, v });
            continue;
          }
          if (pending) {
            // Killed during a regeneration: the new id holds the new version,
            // or the old id still holds the old one.
            assert.equal(pending.oldId, id, where);
            const fresh = await storage.read(pending.newId);
            if (fresh.get("v") === pending.v) {
              assert.equal(fresh.get("pad"), padFor(slot, pending.v), where);
              next.push({ id: pending.newId, v: pending.v });
              figures.regenerations++;
            } else {
              const old = await storage.read(id);
              assert.equal(old.get("v"), v, `${where}: old session lost`);
              assert.equal(old.get("pad"), padFor(slot, v), where);
              next.push({ id, v });
            }
          } else {
            // The save in flight at the kill may have landed: v or v + 1.
            const session = await storage.read(id);
            const read = session.get("v") as number;
            assert.ok(
              read === v || read === v + 1,
              `${where}: expected v ${v} or ${v + 1}, read ${read}`,
            );
            assert.equal(session.get("slot"), slot, where);
            assert.equal(session.get("pad"), padFor(slot, read), where);
            next.push({ id, v: read });
          }
          figures.verified++;
        }
        // A session whose lock the child held when it died takes a save
        // again: the lock is broken once stale.
        for (const [slot, { id, v }] of next.entries()) {
          if (id === null || !existsSync(lockFileOf(dir, id))) continue;
          figures.locksLeft++;
          const session = await storage.read(id);
          session.set("recovered", round);
          assert.equal(await storage.save(session), id, `slot ${slot}`);
          figures.maxBlockedMs = Math.max(
            figures.maxBlockedMs,
            Date.now() - result.killedAt,
          );
          const again = await storage.read(id);
          assert.equal(again.get("recovered"), round);
          assert.equal(again.get("v"), v, `slot ${slot}: nothing lost`);
          assert.equal(existsSync(lockFileOf(dir, id)), false);
        }
        // Ids that a reported regeneration deleted read as new sessions.
        for (let slot = 0; slot < SLOTS; slot++) {
          const old = before[slot].id;
          if (old !== null && old !== slots[slot].id) {
            const gone = await storage.read(old);
            assert.notEqual(gone.id, old);
          }
        }
        slots = next;
      }
      console.log(
        `fs crash: ${figures.killed} SIGKILLs survived ` +
          `(${JSON.stringify(perRuntime)}), ${figures.saves} saves reported ` +
          `before the kills, ${figures.verified} session reads verified, ` +
          `0 sessions lost; ${figures.locksLeft} sessions locked by a ` +
          "killed child took a save again at most " +
          `${figures.maxBlockedMs} ms after the kill`,
      );
    },
  );
});
