// check: needs root

// Disk faults for the fs store: a folder removed under it, a read-only
// folder, a full disk, a failed write during id regeneration, and many
// overlapping saves of one session.
//
// The read-only and full-disk tests mount a read-only bind mount and a tiny
// tmpfs: tests run as root, and root ignores permission bits, so a chmod
// would prove nothing. They need Linux and root (or CAP_SYS_ADMIN), as the
// project's machines and CI have.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { createFsSessionStorage } from "../fs_storage.ts";
import { filesBelow } from "./files.ts";

const base = mkdtempSync(join(tmpdir(), "fs-faults-"));
const mounts: string[] = [];

after(() => {
  for (const mount of mounts.reverse()) unmount(mount);
  rmSync(base, { recursive: true, force: true });
});

function freshDir(): string {
  return mkdtempSync(join(base, "d-"));
}

function mount(args: string[], target: string): void {
  try {
    execFileSync("mount", [...args, target], { stdio: "pipe" });
  } catch (error) {
    throw new Error(
      `Could not run "mount ${[...args, target].join(" ")}": this test ` +
        "needs Linux and root to make a read-only or full folder. " +
        String((error as { stderr?: unknown }).stderr ?? error),
    );
  }
  mounts.push(target);
}

function unmount(target: string): void {
  const index = mounts.indexOf(target);
  if (index === -1) return;
  mounts.splice(index, 1);
  execFileSync("umount", [target], { stdio: "pipe" });
}

describe("fs store under disk faults", () => {
  it("fs store: a session folder removed while the server runs is recreated on the next save", async () => {
    const root = join(freshDir(), "sessions");
    const storage = createFsSessionStorage(root);
    const first = await storage.read(null);
    first.set("user", "ada");
    const firstCookie = await storage.save(first);

    rmSync(root, { recursive: true, force: true });

    const second = await storage.read(null);
    second.set("user", "grace");
    const secondCookie = await storage.save(second);
    assert.ok(existsSync(root));
    assert.equal((await storage.read(secondCookie)).get("user"), "grace");
    // The removed session is gone, and reads as a new, empty one.
    const lost = await storage.read(firstCookie);
    assert.notEqual(lost.id, firstCookie);
    assert.equal(lost.get("user"), undefined);
  });

  it("fs store: a read-only folder makes save reject with an error naming the folder and the cause, and stored sessions stay readable", async () => {
    const root = freshDir();
    const storage = createFsSessionStorage(root);
    const existing = await storage.read(null);
    existing.set("user", "ada");
    const cookie = (await storage.save(existing))!;

    mount(["--bind", "-o", "ro", root], root);
    try {
      const changed = await storage.read(cookie);
      changed.set("user", "mallory");
      const error = await storage.save(changed).then(
        () => assert.fail("save must reject on a read-only folder"),
        (error: Error) => error,
      );
      assert.match(error.message, /could not write a session file/);
      assert.ok(error.message.includes(`"${root}"`), error.message);
      assert.match(error.message, /EROFS/);
      assert.ok(!inspect(error, { depth: 5 }).includes(cookie));

      const regenerated = await storage.read(cookie);
      regenerated.regenerateId(true);
      await assert.rejects(storage.save(regenerated), /EROFS/);

      const fresh = await storage.read(null);
      fresh.set("user", "eve");
      await assert.rejects(storage.save(fresh), /EROFS/);

      assert.equal((await storage.read(cookie)).get("user"), "ada");
    } finally {
      unmount(root);
    }
    assert.equal((await storage.read(cookie)).get("user"), "ada");
    assert.deepEqual(
      filesBelow(root).filter((file) => file.endsWith(".tmp")),
      [],
    );
  });

  it("fs store: a full disk makes save reject with ENOSPC naming the folder, and stored sessions keep their data", async () => {
    const root = freshDir();
    mount(["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs"], root);
    try {
      const storage = createFsSessionStorage(root);
      const existing = await storage.read(null);
      existing.set("user", "ada");
      const cookie = (await storage.save(existing))!;

      // Far larger than the whole disk.
      const big = "x".repeat(1024 * 1024);
      const grown = await storage.read(cookie);
      grown.set("notes", big);
      const error = await storage.save(grown).then(
        () => assert.fail("save must reject on a full disk"),
        (error: Error) => error,
      );
      assert.match(error.message, /could not write a session file/);
      assert.ok(error.message.includes(`"${root}"`), error.message);
      assert.match(error.message, /ENOSPC/);
      assert.ok(!inspect(error, { depth: 5 }).includes(cookie));
      assert.equal((await storage.read(cookie)).get("user"), "ada");

      // Logging in regenerates the id and deletes the old session; when the
      // new one cannot be written the client must keep the old one.
      const login = await storage.read(cookie);
      login.regenerateId(true);
      login.set("notes", big);
      await assert.rejects(storage.save(login), /ENOSPC/);
      assert.equal((await storage.read(cookie)).get("user"), "ada");

      // Fill the disk to the last byte, then a small save fails too.
      let filler = 0;
      try {
        for (; filler < 1000; filler++) {
          writeFileSync(join(root, `filler-${filler}`), "y".repeat(4096));
        }
      } catch (error) {
        assert.equal((error as { code?: string }).code, "ENOSPC");
      }
      assert.ok(filler < 1000, "the tmpfs should have filled up");
      const small = await storage.read(cookie);
      small.set("user", "ada2");
      small.set("more", "z".repeat(8192));
      await assert.rejects(storage.save(small), /ENOSPC/);
      assert.equal((await storage.read(cookie)).get("user"), "ada");

      assert.deepEqual(
        filesBelow(root).filter((file) =>
          file.endsWith(".tmp") || file.endsWith(".lock")
        ),
        [],
        "a save that failed leaves no temporary or lock file",
      );
    } finally {
      unmount(root);
    }
  });

  it("fs store: when the new id cannot be written, regenerateId(true) leaves the old session in place", async () => {
    const root = freshDir();
    const storage = createFsSessionStorage(root);
    const existing = await storage.read(null);
    existing.set("user", "ada");
    const cookie = (await storage.save(existing))!;

    const login = await storage.read(cookie);
    login.regenerateId(true);
    // A folder where the new id's file should be makes that write fail,
    // whoever runs the test.
    const hash = createHash("sha256").update(login.id).digest("hex");
    mkdirSync(join(root, hash.slice(0, 2), hash.slice(2), "block"), {
      recursive: true,
    });
    await assert.rejects(storage.save(login), /could not write a session file/);
    assert.equal((await storage.read(cookie)).get("user"), "ada");
  });

  it("fs store: overlapping saves of one session always leave one whole version on disk", async () => {
    const root = freshDir();
    const storage = createFsSessionStorage(root);
    const first = await storage.read(null);
    first.set("writer", -1);
    first.set("body", "");
    const cookie = (await storage.save(first))!;

    const rounds = 10;
    const writers = 40;
    for (let round = 0; round < rounds; round++) {
      const sessions = await Promise.all(
        Array.from({ length: writers }, () => storage.read(cookie)),
      );
      const seen: Promise<unknown>[] = [];
      const saves = sessions.map((session, writer) => {
        // Versions of different sizes, so that a mix of two would show.
        session.set("writer", writer);
        session.set("body", String(writer % 10).repeat(1000 + writer * 997));
        seen.push(storage.read(cookie).then((read) => read.get("writer")));
        return storage.save(session);
      });
      assert.deepEqual(
        await Promise.all(saves),
        Array(writers).fill(cookie),
      );
      // Concurrent reads saw the session, never a missing or partial file.
      for (const writer of await Promise.all(seen)) {
        assert.equal(typeof writer, "number");
      }
      const after = await storage.read(cookie);
      const writer = after.get("writer") as number;
      assert.ok(writer >= 0 && writer < writers, `writer ${writer}`);
      assert.equal(
        after.get("body"),
        String(writer % 10).repeat(1000 + writer * 997),
      );
    }
    const files = filesBelow(root);
    assert.equal(files.length, 1, `left behind: ${files.join(", ")}`);
    JSON.parse(readFileSync(files[0], "utf8"));
  });
});
