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
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { createSqliteSessionStorage } from "../sqlite_storage.ts";
import * as crash from "./crash.ts";

const KEY_ROUNDS = 100;
const KEY_SESSIONS = 20;
const CHILD = "sqlite_crash_child.ts";

const work = mkdtempSync(join(tmpdir(), "sqlite-crash-"));
after(() => rmSync(work, { recursive: true, force: true }));

describe("sqlite store, two processes on one file", () => {
  it(
    `sqlite store: after ${crash.ROUNDS} rounds of two processes killed with SIGKILL during saves and regenerations, every reported session reads back whole`,
    { timeout: 1_200_000 },
    async () => {
      const file = join(work, "crash.db");
      const stateFile = join(work, "state.json");
      let slots: crash.Slot[] = Array.from({ length: crash.SLOTS }, () => ({
        id: null,
        v: 0,
      }));
      const figures = { killed: 0, saves: 0, verified: 0, regenerations: 0 };

      for (let round = 0; round < crash.ROUNDS; round++) {
        writeFileSync(stateFile, JSON.stringify({ file, slots }));
        const before = slots.map((slot) => ({ ...slot }));
        const pending: (crash.Pending | undefined)[] = Array(crash.SLOTS);
        const results = await Promise.all([0, 1].map((part) =>
          crash.runChild(
            CHILD,
            crash.RUNTIMES[(round + part) % 2].command,
            ["crash", stateFile, String(part)],
            slots,
            pending,
            1 + Math.floor(Math.random() * crash.MAX_SAVES_BEFORE_KILL),
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
        crash.assertRecordsWhole(
          database.prepare("SELECT data FROM sessions").all().map((row) =>
            String(row.data)
          ),
          round,
        );
        const storage = createSqliteSessionStorage(database);
        const next = await crash.verifySlots(
          storage,
          slots,
          pending,
          (slot) => `round ${round}, slot ${slot}`,
          figures,
          { atomicMoves: true },
        );
        // Ids that a reported regeneration deleted read as new sessions.
        await crash.assertReplacedIdsGone(storage, before, slots);
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
      const results = await Promise.all(
        ["a", "b"].map((name, part) =>
          crash.runChild(
            CHILD,
            crash.RUNTIMES[part].command,
            ["keys", file, name, String(KEY_ROUNDS), start, ...ids],
            [],
            [],
            Infinity,
          )
        ),
      );
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
