import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import {
  mkdir,
  readdir,
  readFile,
  stat,
  unlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createFsSessionStorage } from "./fs_storage.ts";
import type { SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";
import { withClock } from "./testing/clock.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "x-session-fs-"));
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) =>
    join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)
  );
}

/**
 * A store with one saved session `{ n: 1 }`, and a read of that session
 * with `n` set to 2, ready to save.
 */
async function savedThenChanged() {
  const dir = tempDir();
  const storage = createFsSessionStorage(dir);
  const first = await storage.read(null);
  first.set("n", 1);
  const cookie = (await storage.save(first))!;
  const session = await storage.read(cookie);
  session.set("n", 2);
  return { dir, storage, cookie, session };
}

/**
 * {@linkcode savedThenChanged}, with the session's lock file holding
 * `content` as if another process held the lock.
 */
async function lockedByAnother(content: string) {
  const saved = await savedThenChanged();
  const lock = `${fileOf(saved.dir, saved.cookie)}.lock`;
  await writeFile(lock, content);
  return { ...saved, lock };
}

function fileOf(dir: string, id: string): string {
  const hash = createHash("sha256").update(id).digest("hex");
  return join(dir, hash.slice(0, 2), hash.slice(2));
}

describe("fs store", () => {
  it("fs store: a missing directory is created with mode 0700", async () => {
    const dir = join(tempDir(), "nested", "sessions");
    createFsSessionStorage(dir);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  });

  it("fs store: session files are 0600 and their folders 0700", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    await storage.save(session);
    const [file] = await filesBelow(dir);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal((await stat(join(file, ".."))).mode & 0o777, 0o700);
  });

  it("fs store: a session saved again into its existing folder is still 0600", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    // The shard folder exists now: this save takes the usual write path.
    const again = await storage.read(cookie);
    again.set("n", 2);
    await storage.save(again);
    assert.equal((await stat(fileOf(dir, cookie!))).mode & 0o777, 0o600);
  });

  it("fs store: the file name is a hash of the id in a shard folder", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    await storage.save(session);
    assert.deepEqual(await filesBelow(dir), [fileOf(dir, session.id)]);
  });

  it("fs store: path-like ids never reach outside the directory", async () => {
    const parent = tempDir();
    const dir = join(parent, "sessions");
    const storage = createFsSessionStorage(dir, { useUnknownIds: true });
    for (
      const id of ["../../etc/passwd", "../escape", "/etc/passwd", "a/../../b"]
    ) {
      const session = await storage.read(id);
      assert.equal(session.get("root"), undefined);
      session.set("n", 1);
      await storage.save(session);
    }
    assert.deepEqual(await readdir(parent), ["sessions"]);
    assert.equal((await filesBelow(dir)).length, 4);
  });

  it("fs store: a corrupt file reads as a new session", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = (await storage.save(session))!;
    for (
      const junk of [
        "",
        "{",
        "null",
        "[1,2]",
        '{"d":[1,2],"e":null}',
        "\u0000\u00ff",
      ]
    ) {
      await writeFile(fileOf(dir, cookie), junk);
      const read = await storage.read(cookie);
      assert.notEqual(
        read.id,
        cookie,
        `adopted the id of a file holding ${junk}`,
      );
      assert.equal(read.size, 0);
    }
  });

  it("fs store: an unreadable entry where the file should be reads as a new session", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir, { useUnknownIds: true });
    await mkdir(fileOf(dir, "is-a-folder"), { recursive: true });
    const session = await storage.read("is-a-folder");
    assert.equal(session.size, 0);
  });

  it("fs store: a save that cannot read the session's file rejects with the store's error instead of dropping its changes", async () => {
    const { dir, storage, cookie, session } = await savedThenChanged();
    // What the save then finds where the file was: an entry it cannot read
    // (EISDIR here; EMFILE or EIO in production).
    await unlink(fileOf(dir, cookie));
    await mkdir(fileOf(dir, cookie));
    await assert.rejects(storage.save(session), {
      message: new RegExp(
        `^createFsSessionStorage: could not write a session file in ` +
          `"${dir}" \\(EISDIR\\)`,
      ),
    });
  });

  it("fs store: regenerateId(true) deletes the old file", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    const oldCookie = (await storage.save(session))!;
    const login = await storage.read(oldCookie);
    login.regenerateId(true);
    const newCookie = await storage.save(login);
    assert.deepEqual(await filesBelow(dir), [fileOf(dir, newCookie!)]);
    assert.equal((await storage.read(oldCookie)).get("n"), undefined);
  });

  it("fs store: destroy deletes the file and clears the cookie", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    const current = await storage.read(cookie);
    current.destroy();
    assert.equal(await storage.save(current), "");
    assert.deepEqual(await filesBelow(dir), []);
  });

  it("fs store: overlapping saves of one session leave one whole version", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir);
    const first = await storage.read(null);
    first.set("v", -1);
    const cookie = await storage.save(first);
    const copies = await Promise.all(
      Array.from({ length: 50 }, () => storage.read(cookie)),
    );
    copies.forEach((s, n) => s.set("v", "x".repeat(1000 * (n + 1)) + n));
    await Promise.all(copies.map((s) => storage.save(s)));
    const text = await readFile(fileOf(dir, cookie!), "utf8");
    const value = JSON.parse(text).d[0].v as string;
    const n = Number(value.replace(/^x+/, ""));
    assert.equal(value, "x".repeat(1000 * (n + 1)) + n);
    assert.equal((await filesBelow(dir)).length, 1, "temporary files left");
  });

  it("fs store: a save waits while another process holds the session's lock file", async () => {
    const { dir, storage, cookie, lock, session } = await lockedByAnother(
      "another process",
    );
    let settled = false;
    const saving = storage.save(session).finally(() => settled = true);
    await sleep(100);
    assert.equal(settled, false, "the save waits for the lock");
    assert.equal(
      JSON.parse(await readFile(fileOf(dir, cookie), "utf8")).d[0].n,
      1,
    );
    await unlink(lock);
    assert.equal(await saving, cookie);
    assert.equal((await storage.read(cookie)).get("n"), 2);
  });

  it("fs store: a lock file a dead process left is broken, and the save goes through", async () => {
    const { dir, storage, cookie, lock, session } = await lockedByAnother(
      "a process that died",
    );
    const past = new Date(Date.now() - 5_000);
    await utimes(lock, past, past);
    assert.equal(await storage.save(session), cookie);
    assert.equal((await storage.read(cookie)).get("n"), 2);
    assert.deepEqual(await filesBelow(dir), [fileOf(dir, cookie)]);
  });

  it("fs store: an expired session reads as new and its file is removed", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir, { ttl: 0.05 });
    const session = await storage.read(null);
    session.set("n", 1);
    const cookie = await storage.save(session);
    await sleep(80);
    const read = await storage.read(cookie);
    assert.notEqual(read.id, cookie);
    assert.deepEqual(await filesBelow(dir), []);
  });

  it("fs store: deleteExpired removes expired files and says how many", async () => {
    const dir = tempDir();
    const shortLived = createFsSessionStorage(dir, { ttl: 0.05 });
    const longLived = createFsSessionStorage(dir, { ttl: 60 });
    for (const storage of [shortLived, shortLived, longLived]) {
      const session = await storage.read(null);
      session.set("n", 1);
      await storage.save(session);
    }
    await sleep(80);
    assert.equal(await shortLived.deleteExpired(), 2);
    assert.equal((await filesBelow(dir)).length, 1);
    assert.equal(await shortLived.deleteExpired(), 0);
  });

  it("fs store: under a ttl, deleteExpired removes a file written without one", async () => {
    const dir = tempDir();
    const unbounded = createFsSessionStorage(dir);
    const session = await unbounded.read(null);
    session.set("n", 1);
    await unbounded.save(session);
    const bounded = createFsSessionStorage(dir, { ttl: 3600 });
    assert.equal(await bounded.deleteExpired(), 1);
    assert.deepEqual(await filesBelow(dir), []);
  });

  it("fs store: deleteExpired removes the index entries of sessions that are gone", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir, { indexBy: "userId", ttl: 60 });
    const kept = await storage.read(null);
    kept.set("userId", "ann");
    await storage.save(kept);
    const gone = await storage.read(null);
    gone.set("userId", "ann");
    const cookie = await storage.save(gone);
    assert.equal((await filesBelow(join(dir, "users"))).length, 2);
    // Deleted behind the store's back, as another tool might.
    rmSync(fileOf(dir, cookie!));
    assert.equal(await storage.deleteExpired(), 0);
    assert.equal((await filesBelow(join(dir, "users"))).length, 1);
    assert.equal((await storage.listSessions("ann")).length, 1);
  });

  it("fs store: deleteExpired removes stale temporary and lock files and keeps those of a save in progress", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir, { ttl: 60 });
    const files: string[] = [];
    for (const n of [1, 2]) {
      const session = await storage.read(null);
      session.set("n", n);
      files.push(fileOf(dir, (await storage.save(session))!));
    }
    const staleTemp = `${files[0]}.0123456789ab.tmp`;
    const freshTemp = `${files[0]}.ba9876543210.tmp`;
    const freshLock = `${files[0]}.lock`;
    const staleLock = `${files[1]}.lock`;
    for (const file of [staleTemp, freshTemp, freshLock, staleLock]) {
      await writeFile(file, "");
    }
    // Left by a process that died two minutes ago.
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(staleTemp, twoMinutesAgo, twoMinutesAgo);
    await utimes(staleLock, twoMinutesAgo, twoMinutesAgo);
    assert.equal(await storage.deleteExpired(), 0);
    assert.deepEqual(
      (await filesBelow(dir)).sort(),
      [...files, freshTemp, freshLock].sort(),
    );
  });

  it("fs store: deleteExpired removes a stale temporary file of the per-user index and keeps a fresh one", async () => {
    const dir = tempDir();
    const storage = createFsSessionStorage(dir, { indexBy: "userId", ttl: 60 });
    const session = await storage.read(null);
    session.set("userId", "ann");
    await storage.save(session);
    const [entry] = await filesBelow(join(dir, "users"));
    // An index entry is written to a temporary file, then renamed: a
    // process that died in between left the first.
    const staleTemp = `${entry}.0123456789ab.tmp`;
    const freshTemp = `${entry}.ba9876543210.tmp`;
    await writeFile(staleTemp, "an id");
    await writeFile(freshTemp, "an id");
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await utimes(staleTemp, twoMinutesAgo, twoMinutesAgo);
    assert.equal(await storage.deleteExpired(), 0);
    assert.deepEqual(
      (await filesBelow(join(dir, "users"))).sort(),
      [entry, freshTemp].sort(),
    );
    assert.equal((await storage.listSessions("ann")).length, 1);
  });

  it("fs store: deleteExpired deletes a session at exactly its ttl, not a millisecond before", () =>
    withClock(async (clock) => {
      const dir = tempDir();
      const storage = createFsSessionStorage(dir, { ttl: 60 });
      const session = await storage.read(null);
      session.set("n", 1);
      const cookie = await storage.save(session);
      const saved = clock.now;
      clock.now = saved + 59_999;
      assert.equal(await storage.deleteExpired(), 0);
      assert.equal((await storage.read(cookie)).get("n"), 1);
      clock.now = saved + 60_000;
      assert.equal(await storage.deleteExpired(), 1);
      assert.deepEqual(await filesBelow(dir), []);
    }));

  it("fs store: a directory that is a file is refused at creation", () => {
    const file = join(tempDir(), "not-a-folder");
    writeFileSync(file, "");
    assert.throws(
      () => createFsSessionStorage(file),
      (error: Error) =>
        error.message.includes('"directory"') && error.message.includes(file),
    );
  });

  it("fs store: a directory that is not a path is refused with an error that names it and prints none of it", () => {
    const circular: Record<string, unknown> = { secret: "s3cr3t-value" };
    circular.self = circular;
    for (
      const [directory, described] of [
        [circular, "an object (Object)"],
        [10n, "10n"],
        ["", "a string of 0 characters"],
      ] as const
    ) {
      assert.throws(
        () => createFsSessionStorage(directory as string),
        (error: Error) =>
          error instanceof TypeError &&
          error.message ===
            `createFsSessionStorage: argument "directory" must be a folder ` +
              `path, got ${described}.`,
      );
    }
  });

  it("fs store: a negative ttl is refused at creation", () => {
    assert.throws(
      () => createFsSessionStorage(tempDir(), { ttl: -5 }),
      /"ttl" .* got -5/,
    );
  });
});

const conformanceFolders = new WeakMap<SessionStorage, string>();

testSessionStorage({
  name: "fs store",
  create(options) {
    const folder = mkdtempSync(join(tmpdir(), "x-session-conformance-"));
    const storage = createFsSessionStorage(folder, options);
    conformanceFolders.set(storage, folder);
    return storage;
  },
  reopen(storage, options) {
    const folder = conformanceFolders.get(storage)!;
    const reopened = createFsSessionStorage(folder, options);
    conformanceFolders.set(reopened, folder);
    return reopened;
  },
  maxLifetime: 1,
  index: true,
  cleanup(storage) {
    rmSync(conformanceFolders.get(storage)!, { recursive: true, force: true });
  },
  ttl: 0.5,
  maxValueBytes: 1_000_000,
  cookieSafeValues: true,
});
