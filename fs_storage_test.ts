import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { createFsSessionStorage } from "./fs_storage.ts";
import type { SessionStorage } from "./session.ts";
import { testSessionStorage } from "./conformance/mod.ts";

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "x-session-fs-"));
}

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) =>
    join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)
  );
}

function fileOf(dir: string, id: string): string {
  const hash = createHash("sha256").update(id).digest("hex");
  return join(dir, hash.slice(0, 2), hash.slice(2));
}

describe("fs store", () => {
  it("fs store: a saved session reads back with its id and data", async () => {
    const storage = createFsSessionStorage(tempDir());
    const session = await storage.read(null);
    session.set("user", { name: "mj" });
    const cookie = await storage.save(session);
    assert.equal(cookie, session.id);
    const again = await storage.read(cookie);
    assert.equal(again.id, session.id);
    assert.deepEqual(again.get("user"), { name: "mj" });
  });

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

  it("fs store: 200 sessions saved at once into one directory are all kept", async () => {
    const storage = createFsSessionStorage(tempDir());
    const sessions = await Promise.all(
      Array.from({ length: 200 }, () => storage.read(null)),
    );
    sessions.forEach((session, n) => session.set("n", n));
    const cookies = await Promise.all(sessions.map((s) => storage.save(s)));
    const read = await Promise.all(cookies.map((c) => storage.read(c)));
    assert.deepEqual(read.map((s) => s.get("n")), sessions.map((_, n) => n));
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
    const hash = createHash("sha256").update(cookie!).digest("hex");
    rmSync(join(dir, hash.slice(0, 2), hash.slice(2)));
    assert.equal(await storage.deleteExpired(), 0);
    assert.equal((await filesBelow(join(dir, "users"))).length, 1);
    assert.equal((await storage.listSessions("ann")).length, 1);
  });

  it("fs store: a directory that is a file is refused at creation", () => {
    const file = join(tempDir(), "not-a-folder");
    writeFileSync(file, "");
    assert.throws(
      () => createFsSessionStorage(file),
      (error: Error) =>
        error.message.includes('"directory"') && error.message.includes(file),
    );
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
});
