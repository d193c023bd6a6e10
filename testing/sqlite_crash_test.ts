// check: runtimes deno

// Two processes on one SQLite file. Crash safety: two children (one on Deno,
// one on Node 26) save and regenerate sessions of the same database at once
// and are killed with SIGKILL at random moments, round after round; after
// each round every session must read back whole, with the data its child
// last reported saved, or newer. Overlapping writers: two children set
// different keys of the same sessions at once, and no key is lost.
//
// Runs 4 rounds by default and 24 with STRESS=1 (`deno task stress`).

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import { decodeRecord } from "../_record.ts";
import { padFor } from "./crash_data.ts";
import { repoPath } from "./repo_root.ts";

const STRESS = process.env.STRESS === "1";
const ROUNDS = STRESS ? 24 : 4;
const SLOTS = 300;
// Each child is killed after a random number of its saves up to this.
const MAX_SAVES_BEFORE_KILL = STRESS ? 4000 : 1500;
// A child that never gets that far is killed after this long anyway.
const ROUND_LIMIT_MS = 90_000;
const KEY_ROUNDS = 100;
const KEY_SESSIONS = 20;

const CHILD = repoPath("testing", "sqlite_crash_child.ts");
const RUNTIMES = [
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

const work = mkdtempSync(join(tmpdir(), "sqlite-crash-"));
after(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs one child, feeding its reports into `slots` and `pending`, and kills
 * it once it has reported `killAfter` saves (or when `killAfter` is
 * Infinity, waits for it to finish). Resolves to its saves and its error
 * output.
 */
function runChild(
  command: string[],
  args: string[],
  slots: Slot[],
  pending: (Pending | undefined)[],
  killAfter: number,
): Promise<{ killed: boolean; saves: number; log: string; out: string }> {
  let saves = 0;
  let killed = false;
  let buffered = "";
  let out = "";
  let log = "";
  const child = spawn(command[0], [...command.slice(1), CHILD, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = () => {
    if (killed || child.exitCode !== null) return;
    killed = true;
    child.kill("SIGKILL");
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

  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    // Lines that arrive after the kill were written before it: still true.
    for (const line of lines) onLine(line);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => log += chunk);

  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(limit);
      if (buffered) onLine(buffered);
      if (!killed && code !== 0) {
        reject(new Error(`child exited with ${code ?? signal}: ${log}`));
      } else resolve({ killed, saves, log, out });
    });
  });
}

describe("sqlite store, two processes on one file", () => {
  it(
    `sqlite store: after ${ROUNDS} rounds of two processes killed with SIGKILL during saves and regenerations, every reported session reads back whole`,
    { timeout: 1_200_000 },
    async () => {
      const file = join(work, "crash.db");
      const stateFile = join(work, "state.json");
      let slots: Slot[] = Array.from({ length: SLOTS }, () => ({
        id: null,
        v: 0,
      }));
      const figures = { killed: 0, saves: 0, verified: 0, regenerations: 0 };

      for (let round = 0; round < ROUNDS; round++) {
        writeFileSync(stateFile, JSON.stringify({ file, slots }));
        const before = slots.map((slot) => ({ ...slot }));
        const pending: (Pending | undefined)[] = Array(SLOTS);
        const results = await Promise.all([0, 1].map((part) =>
          runChild(
            RUNTIMES[(round + part) % 2].command,
            ["crash", stateFile, String(part)],
            slots,
            pending,
            1 + Math.floor(Math.random() * MAX_SAVES_BEFORE_KILL),
          )
        ));
        for (const result of results) {
          assert.equal(result.log, "", `round ${round}: ${result.log}`);
          assert.ok(result.killed, `round ${round}: a child was not killed`);
          figures.killed++;
          figures.saves += result.saves;
        }

        const database = new DatabaseSync(file);
        assert.deepEqual(
          database.prepare("PRAGMA integrity_check").all().map((row) =>
            Object.values(row)[0]
          ),
          ["ok"],
        );
        for (const row of database.prepare("SELECT data FROM sessions").all()) {
          assert.ok(
            decodeRecord(String(row.data)),
            `round ${round}: a stored session is not whole`,
          );
        }
        const storage = createSqliteSessionStorage(database);
        const next: Slot[] = [];
        for (let slot = 0; slot < SLOTS; slot++) {
          const { id, v } = slots[slot];
          const where = `round ${round}, slot ${slot}`;
          if (id === null) {
            next.push({ id, v });
            continue;
          }
          const moving = pending[slot];
          if (moving) {
            // Killed during a regeneration: the new id holds the new
            // version, or the old id still holds the old one.
            assert.equal(moving.oldId, id, where);
            const fresh = await storage.read(moving.newId);
            if (fresh.get("v") === moving.v) {
              assert.equal(fresh.get("pad"), padFor(slot, moving.v), where);
              assert.notEqual((await storage.read(id)).id, id, where);
              next.push({ id: moving.newId, v: moving.v });
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
        // Ids that a reported regeneration deleted read as new sessions.
        for (let slot = 0; slot < SLOTS; slot++) {
          const old = before[slot].id;
          if (old !== null && old !== slots[slot].id) {
            assert.notEqual((await storage.read(old)).id, old);
          }
        }
        database.close();
        slots = next;
      }
      console.log(
        `sqlite crash: ${figures.killed} SIGKILLs survived, ` +
          `${figures.saves} saves reported before the kills, ` +
          `${figures.regenerations} regenerations cut short and landed, ` +
          `${figures.verified} session reads verified, 0 sessions lost`,
      );
    },
  );

  it(
    `sqlite store: two processes setting different keys of the same ${KEY_SESSIONS} sessions at once lose none of ${
      2 * KEY_ROUNDS * KEY_SESSIONS
    } updates`,
    { timeout: 300_000 },
    async () => {
      const file = join(work, "keys.db");
      const database = new DatabaseSync(file);
      const storage = createSqliteSessionStorage(database);
      const ids: string[] = [];
      for (let i = 0; i < KEY_SESSIONS; i++) {
        const session = await storage.read(null);
        session.set("created", i);
        ids.push((await storage.save(session))!);
      }
      // Both start at once, whatever each runtime takes to boot.
      const start = String(Date.now() + 3000);
      const results = await Promise.all(["a", "b"].map((name, part) =>
        runChild(
          RUNTIMES[part].command,
          ["keys", file, name, String(KEY_ROUNDS), start, ...ids],
          [],
          [],
          Infinity,
        )
      ));
      for (const result of results) {
        assert.equal(result.log, "");
        assert.match(result.out, /^done$/m);
      }
      let kept = 0;
      for (const id of ids) {
        const session = await storage.read(id);
        for (let round = 0; round < KEY_ROUNDS; round++) {
          if (session.get(`a${round}`) === round) kept++;
          if (session.get(`b${round}`) === round) kept++;
        }
      }
      database.close();
      assert.equal(kept, 2 * KEY_ROUNDS * KEY_SESSIONS);
    },
  );
});
