/**
 * A session store that keeps each session in a file: for servers with a
 * persistent disk. Sessions survive restarts and may hold a lot of data.
 *
 * @example
 * ```ts
 * import { createFsSessionStorage } from "@x/session/fs-storage";
 *
 * const storage = createFsSessionStorage("./.tmp/sessions", { ttl: 86400 });
 * ```
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import {
  mkdir,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type {
  ServerSessionStorageOptions,
  SessionIndex,
  SessionStorage,
} from "./session.ts";
import { describeValue } from "./_describe.ts";
import { decodeRecord } from "./_record.ts";
import {
  createServerSessionStorage,
  inTurn,
  serverOptions,
} from "./_server_storage.ts";

/**
 * Options for {@linkcode createFsSessionStorage}. With a `ttl`, expired
 * files are removed when read, or all at once by
 * {@linkcode FsSessionStorage.deleteExpired}.
 *
 * @example
 * ```ts
 * import type { FsSessionStorageOptions } from "@x/session/fs-storage";
 *
 * const options: FsSessionStorageOptions = { ttl: 60 * 60 * 24 };
 * ```
 */
export interface FsSessionStorageOptions extends ServerSessionStorageOptions {}

/**
 * The storage {@linkcode createFsSessionStorage} returns.
 *
 * @example Deleting expired sessions once an hour
 * ```ts
 * import {
 *   createFsSessionStorage,
 *   type FsSessionStorage,
 * } from "@x/session/fs-storage";
 *
 * const storage: FsSessionStorage = createFsSessionStorage("./.tmp/sessions", {
 *   ttl: 60 * 60 * 24,
 * });
 * const timer = setInterval(() => storage.deleteExpired(), 60 * 60 * 1000);
 * clearInterval(timer);
 * ```
 */
export interface FsSessionStorage extends SessionStorage, SessionIndex {
  /**
   * Deletes the file of every expired session, and the lock and temporary
   * files that a crashed process left behind, and resolves to the number of
   * expired sessions deleted. Run it now and then, for example once an hour.
   * Under a `ttl` or a `maxLifetime`, a file written while neither was set
   * counts as expired. With `indexBy`, it also deletes the index entries of
   * sessions that are gone.
   */
  deleteExpired(): Promise<number>;
}

// A temporary file (written by versions before the lock files) older than
// this was abandoned by a process that died between writing and renaming it.
const STALE_TEMP_MS = 60_000;
const TEMP_SUFFIX = ".tmp";
// A save holds its session's lock file for the few milliseconds between its
// check and its rename. One older than this was left by a process that died
// holding it, and is broken: with the polling below, a crash blocks a
// session for less than a second.
const STALE_LOCK_MS = 800;
const LOCK_SUFFIX = ".lock";
// A save that cannot take a lock for this long gives up with an error.
const LOCK_TIMEOUT_MS = 10_000;
// The per-user index lives in this subfolder: a folder per user, a file per
// session, named by its handle and holding its id. Shard folders have two
// characters, so the name cannot clash.
const USERS_FOLDER = "users";

/**
 * Creates a session storage that keeps each session in its own file below
 * `directory`.
 *
 * The file name is the SHA-256 hash of the session id, sharded into 256
 * subfolders, so no id can name a path outside the directory. A save takes
 * the session's lock by creating `<file>.lock` (which must not exist)
 * holding the new record, checks that the session file still holds what
 * `read` saw, and renames the lock into place: a crash never leaves a
 * half-written session, overlapping saves lose no update (see the README's
 * "Overlapping requests"), and several processes may share the folder. A
 * lock older than 0.8 s was left by a process that died, and is broken.
 * Files are created with mode 0600 and folders with 0700. A corrupt or
 * unreadable file reads as a new session.
 *
 * @example Counting visits
 * ```ts
 * import { createFsSessionStorage } from "@x/session/fs-storage";
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import assert from "node:assert/strict";
 *
 * const storage = createFsSessionStorage(mkdtempSync(join(tmpdir(), "s-")));
 * const session = await storage.read(null);
 * session.set("count", 1);
 * const cookie = await storage.save(session);
 * assert.equal((await storage.read(cookie)).get("count"), 1);
 * ```
 *
 * @param directory The folder for session files; created when missing. Give
 * the store a folder of its own.
 * With `indexBy`, the per-user index is a folder per user below `users/`,
 * with a small file per session: listing a user's sessions reads that
 * folder and those sessions' files only.
 *
 * @param options How sessions expire, whether unknown ids are adopted and
 * which value the per-user index is keyed by.
 * @returns The session storage.
 * @throws {TypeError} When `directory` is not a folder path, or an option
 * is of the wrong type.
 * @throws {RangeError} When `ttl` or `maxLifetime` is not a positive number.
 * @throws {Error} When `directory` exists but is not a folder, or on
 * Cloudflare Workers, whose file system keeps what a request writes for that
 * request only.
 */
export function createFsSessionStorage(
  directory: string,
  options: FsSessionStorageOptions = {},
): FsSessionStorage {
  const factory = "createFsSessionStorage";
  // Workers with `nodejs_compat` have a `node:fs` whose files last one
  // request: every save would succeed and every session be lost.
  if (
    (globalThis as { navigator?: { userAgent?: unknown } }).navigator
      ?.userAgent === "Cloudflare-Workers"
  ) {
    throw new Error(
      `${factory}: Cloudflare Workers keep the files a request writes for ` +
        "that request only, so every session would be lost. Use the cookie " +
        "store, or a store over a database (see @x/session/store-kit).",
    );
  }
  const settings = serverOptions(factory, options);
  const { expiry } = settings;
  if (typeof directory !== "string" || directory === "") {
    throw new TypeError(
      `${factory}: argument "directory" must be a folder path, got ` +
        `${describeValue(directory)}.`,
    );
  }
  const root = resolve(directory);
  const stats = statSync(root, { throwIfNoEntry: false });
  if (stats === undefined) mkdirSync(root, { recursive: true, mode: 0o700 });
  else if (!stats.isDirectory()) {
    throw new Error(
      `${factory}: argument "directory" is "${root}", which exists but is ` +
        "not a folder. Pass a folder of its own for session files.",
    );
  }

  function pathOf(id: string): string {
    const hash = createHash("sha256").update(id).digest("hex");
    return join(root, hash.slice(0, 2), hash.slice(2));
  }

  async function remove(file: string): Promise<void> {
    try {
      await unlink(file);
    } catch (error) {
      if (codeOf(error) !== "ENOENT") throw failure("delete", error);
    }
  }

  // Saves of one session in this process queue here, so that only one of
  // them at a time polls for the lock file other processes may hold.
  const queues = new Map<string, Promise<unknown>>();

  /**
   * Runs `work` holding the lock of each `[file, content]` of `requests`,
   * taken in order of file name so that two saves never wait for each
   * other, and released afterwards unless `work` renamed it into place.
   */
  function locked<T>(
    requests: [file: string, content: string][],
    action: string,
    work: (locks: Lock[]) => Promise<T>,
    taken: Lock[] = [],
  ): Promise<T> {
    const [first, ...rest] = requests;
    if (first === undefined) return work(taken);
    return inTurn(queues, first[0], async () => {
      const lock = await acquire(first[0], first[1], action);
      try {
        return await locked(rest, action, work, [...taken, lock]);
      } finally {
        if (!lock.renamed && await stillHeld(lock)) {
          await unlink(lock.path).catch(() => {});
        }
      }
    });
  }

  /**
   * Takes the lock of `file`: creates `file.lock`, which must not exist,
   * holding `content`. Breaks a lock older than STALE_LOCK_MS, which a
   * process that died left behind.
   */
  async function acquire(
    file: string,
    content: string,
    action: string,
  ): Promise<Lock> {
    const path = file + LOCK_SUFFIX;
    const started = Date.now();
    for (let attempt = 0;; attempt++) {
      // Before the file exists, so that its mtime is no earlier.
      const takenAt = Date.now();
      try {
        await writeFile(path, content, { mode: 0o600, flag: "wx" });
        return { path, content, takenAt, renamed: false };
      } catch (error) {
        if (codeOf(error) === "ENOENT") {
          // The shard folder, or the whole directory, is missing.
          await makeFolder(dirname(path)).catch((e) => {
            throw failure(action, e);
          });
          continue;
        }
        if (codeOf(error) !== "EEXIST") {
          // Created, then not written (a full disk): the file is this
          // save's, and left in place it would block the session.
          await unlink(path).catch(() => {});
          throw failure(action, error);
        }
      }
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) {
        await unlink(path).catch(() => {});
        continue;
      }
      if (Date.now() - started > LOCK_TIMEOUT_MS) {
        throw failure(action, new Error("another save held the lock"));
      }
      await sleep(Math.min(1 + attempt, 10) * (0.5 + Math.random()));
    }
  }

  /**
   * The text of `file` now, or undefined when there is none; rejects when
   * the file is there but cannot be read. A save must not take such a file
   * for gone: it would drop its changes.
   */
  async function textOf(file: string): Promise<string | undefined> {
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      if (codeOf(error) === "ENOENT") return undefined;
      throw failure("write", error);
    }
  }

  /**
   * The text of `file` now, or undefined when there is none or it cannot be
   * read: everywhere but a save, an unreadable file is no session.
   */
  function current(file: string): Promise<string | undefined> {
    return textOf(file).catch(() => undefined);
  }

  function failure(action: string, error: unknown): Error {
    // The message names the folder, never the file: a file name is derived
    // from a session id.
    return new Error(
      `${factory}: could not ${action} a session file in "${root}" ` +
        `(${codeOf(error) ?? String(error)}). Check that the folder exists, ` +
        "is writable by this process, and that the disk is not full.",
      { cause: error },
    );
  }

  const userFolder = (user: string) => join(root, USERS_FOLDER, user);

  /** The `[handle, id]` pairs in `user`'s folder. */
  async function userEntries(user: string): Promise<[string, string][]> {
    const folder = userFolder(user);
    const names = await readdir(folder).catch(() => [] as string[]);
    const entries: [string, string][] = [];
    for (const name of names) {
      if (name.endsWith(TEMP_SUFFIX)) continue;
      const id = await current(join(folder, name));
      if (id) entries.push([name, id]);
    }
    return entries;
  }

  /** Writes an index entry: a temporary file renamed into place. */
  async function writeEntry(file: string, id: string): Promise<void> {
    const temp = `${file}.${randomToken()}${TEMP_SUFFIX}`;
    try {
      await writeFile(temp, id, { mode: 0o600, flag: "wx" }).catch(
        async (error) => {
          if (codeOf(error) !== "ENOENT") throw error;
          await makeFolder(dirname(file));
          await writeFile(temp, id, { mode: 0o600, flag: "wx" });
        },
      );
      await rename(temp, file);
    } catch (error) {
      await unlink(temp).catch(() => {});
      throw failure("write", error);
    }
  }

  const storage = createServerSessionStorage({
    async load(id) {
      const text = await current(pathOf(id));
      // The version of a record is its text: every write has a new
      // expiry in it.
      return text === undefined ? undefined : { text, version: text };
    },
    write({ id, text, expected, oldId, oldExpected }) {
      const file = pathOf(id);
      const oldFile = oldId === undefined ? undefined : pathOf(oldId);
      // The lock of `file` holds the new text: renamed into place, it
      // writes the session and releases the lock at once, atomically.
      const requests: [string, string][] = [[file, text]];
      if (oldFile) requests.push([oldFile, randomToken()]);
      requests.sort(([a], [b]) => a < b ? -1 : 1);
      return locked(requests, "write", async (locks) => {
        if (await textOf(file) !== expected) return false;
        if (oldFile && await textOf(oldFile) !== oldExpected) return false;
        for (const lock of locks) if (!await stillHeld(lock)) return false;
        const lock = locks.find((lock) => lock.path === file + LOCK_SUFFIX)!;
        try {
          await rename(lock.path, file);
        } catch (error) {
          throw failure("write", error);
        }
        lock.renamed = true;
        // Delete the old id only once the new one is on disk: a failed
        // write or a crash in between must not leave the client with no
        // session.
        if (oldFile) await remove(oldFile);
        return true;
      });
    },
    async delete(ids) {
      // Under the lock, so that a save in flight cannot write it back.
      for (const id of ids) {
        const file = pathOf(id);
        await locked([[file, randomToken()]], "delete", () => remove(file));
      }
    },
    discard(id, version) {
      const file = pathOf(id);
      return locked([[file, randomToken()]], "delete", async () => {
        if (await current(file) === version) await remove(file);
      });
    },
    index: {
      async add(user, handle, id) {
        const file = join(userFolder(user), handle);
        if (await current(file) !== id) await writeEntry(file, id);
      },
      entries: async (user) => (await userEntries(user)).map(([, id]) => id),
      async remove(user, handles) {
        for (const handle of handles) {
          await remove(join(userFolder(user), handle));
        }
      },
    },
  }, settings);

  return {
    ...storage,
    async deleteExpired() {
      let deleted = 0;
      const now = Date.now();
      const shards = await readdir(root).catch(() => []);
      for (const shard of shards) {
        const folder = join(root, shard);
        const names = await readdir(folder).catch(() => []);
        for (const name of names) {
          const file = join(folder, name);
          if (await removeIfLeft(file, now)) continue;
          const text = await readFile(file, "utf8").catch(() => "");
          const record = decodeRecord(text);
          if (record && !expiry.isLive(record)) {
            if (await unlink(file).then(() => true, () => false)) deleted++;
          }
        }
      }
      // Index entries of sessions that are gone; listing drops the ones of
      // sessions that changed user.
      const users = await readdir(join(root, USERS_FOLDER)).catch(() => []);
      for (const user of users) {
        const names = await readdir(userFolder(user)).catch(() => []);
        for (const name of names) {
          await removeIfLeft(join(userFolder(user), name), now);
        }
        for (const [handle, id] of await userEntries(user)) {
          const record = decodeRecord(await current(pathOf(id)) ?? "");
          if (!record || !expiry.isLive(record)) {
            await unlink(join(userFolder(user), handle)).catch(() => {});
          }
        }
      }
      return deleted;
    },
  };
}

/**
 * Whether `file` is a temporary or lock file; deletes it when it is older
 * than a save holds one, at `now`: a process that died left it.
 */
async function removeIfLeft(file: string, now: number): Promise<boolean> {
  const stale = file.endsWith(TEMP_SUFFIX)
    ? STALE_TEMP_MS
    : file.endsWith(LOCK_SUFFIX)
    ? STALE_LOCK_MS
    : undefined;
  if (stale === undefined) return false;
  const info = await stat(file).catch(() => undefined);
  if (info && now - info.mtimeMs > stale) await unlink(file).catch(() => {});
  return true;
}

/** A lock file this process created, as `acquire` took it. */
interface Lock {
  path: string;
  /** What the lock file holds: the new record, or a random token. */
  content: string;
  /** When it was taken, no later than the file's mtime. */
  takenAt: number;
  /** Whether it was renamed into place as the session file. */
  renamed: boolean;
}

/**
 * Whether `lock` is still this process's own. No other process breaks a
 * lock younger than STALE_LOCK_MS, so a young one needs no look; an older
 * one may have been broken by a process that thought this one dead.
 */
async function stillHeld(lock: Lock): Promise<boolean> {
  if (Date.now() - lock.takenAt < STALE_LOCK_MS / 2) return true;
  return await readFile(lock.path, "utf8").catch(() => undefined) ===
    lock.content;
}

function randomToken(): string {
  return randomBytes(12).toString("hex");
}

async function makeFolder(folder: string): Promise<void> {
  // Not recursive at first: Node's recursive mkdir reports every failure,
  // a read-only disk included, as ENOENT, which would hide the real cause.
  try {
    await mkdir(folder, { mode: 0o700 });
  } catch (error) {
    if (codeOf(error) === "EEXIST") return;
    if (codeOf(error) !== "ENOENT") throw error;
    await mkdir(folder, { recursive: true, mode: 0o700 });
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
