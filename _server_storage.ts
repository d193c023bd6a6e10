// The read and save logic the server-side stores share: what a stored record
// means, when it has expired, when a session must be written, and how a save
// applies its request's changes by compare-and-set. Each store brings only
// its own primitives. Not part of the public API yet: this contract is the
// one a store kit will export.

import {
  createSession,
  type ListedSession,
  type ServerSessionStorageOptions,
  type SessionIndex,
  type SessionStorage,
} from "./session.ts";
import {
  decodeRecord,
  encodeRecord,
  Expiry,
  secondsOption,
  type SessionRecord,
} from "./_record.ts";
import { describeValue } from "./_describe.ts";
import { adoptSession } from "./_session_internals.ts";
import { byteString, createHmacSha256 } from "./_hmac_sha256.ts";
import { encodeBase64url } from "./_base64url.ts";

/**
 * A record as {@linkcode RecordStore.load} found it: its text and its
 * version.
 */
export interface LoadedRecord {
  /** The stored text, as {@linkcode RecordStore.write} was given it. */
  text: string;
  /**
   * What identifies this write of the record, opaque to the flow, which only
   * hands it back to {@linkcode RecordStore.write}: a counter, a Deno KV
   * versionstamp, a SQL version column, or the text itself compared by
   * value. Two writes must never leave the same version unless they wrote
   * the same text. Never `undefined`: that means "no record".
   */
  version: unknown;
}

/** One conditional write, as the flow hands it to {@linkcode RecordStore.write}. */
export interface RecordWrite {
  /** The id to write. */
  id: string;
  /** The record's text, which `load` must return as it is. */
  text: string;
  /**
   * When the record expires, in Unix ms, or null for never. A store with
   * its own expiry (Redis `PX`, Deno KV `expireIn`, a SQL column) uses it;
   * the text holds it too, and the flow checks it on every load.
   */
  expires: number | null;
  /**
   * The version `id` must still have for the write to happen, as `load`
   * returned it; `undefined` means `id` must have no record.
   */
  expected: unknown;
  /**
   * The id `regenerateId(true)` replaced: deleted in the same write, and
   * only if its version is still `oldExpected`. Left out otherwise.
   */
  oldId?: string;
  /** The version `oldId` must still have; given whenever `oldId` is. */
  oldExpected?: unknown;
  /**
   * The index key of the session's user (see {@linkcode RecordIndex}), or
   * null when the store keeps no index or the session names no user. A
   * store that keeps the index in the record's row writes it there.
   */
  user: string | null;
}

/**
 * A per-user index of session ids, for stores created with `indexBy`. It is
 * derived data: the flow adds an entry after every write of a session that
 * names a user, checks every entry against its record when listing, and
 * removes the entries whose record is gone, expired or names another user.
 * `user` is a key the flow derives from the user value (43 base64url
 * characters); `handle` names the session without being its id.
 */
export interface RecordIndex {
  /**
   * Notes that the session `id`, listed as `handle`, belongs to `user`. The
   * entry may expire at `expires` (Unix ms; null: never), the expiry of the
   * record just written.
   */
  add(
    user: string,
    handle: string,
    id: string,
    expires: number | null,
  ): Promise<unknown> | void;
  /** The ids noted for `user`. */
  entries(user: string): Promise<Iterable<string>> | Iterable<string>;
  /** Removes the entries of `handles` from `user`'s. */
  remove(user: string, handles: readonly string[]): Promise<unknown> | void;
}

/**
 * The primitives a server-side store keeps records with: a versioned
 * compare-and-set. The flow in {@linkcode createServerSessionStorage} calls
 * them; a store implements them once, and inherits every rule about
 * sessions, expiry and overlapping requests.
 */
export interface RecordStore {
  /**
   * The record stored under `id` with its version, or `undefined` (or
   * `null`, as key-value clients answer) when there is none. May return an
   * expired record: the flow checks the expiry in the text.
   */
  load(
    id: string,
  ):
    | Promise<LoadedRecord | null | undefined>
    | LoadedRecord
    | null
    | undefined;
  /**
   * Writes `text` under `id` only if `id`'s version is still `expected`
   * (`undefined`: only if `id` has no record), and, given `oldId`, deletes
   * `oldId` only if its version is still `oldExpected`. Both checks pass
   * and both changes happen, or nothing changes: atomically where the
   * backend allows it, otherwise with the old record deleted only after
   * the new one is written, so a crash in between leaves the client a
   * session. Resolves to `true` when it wrote, `false` when a check
   * failed. Rejects only when the backend fails.
   */
  write(write: RecordWrite): Promise<boolean> | boolean;
  /**
   * Deletes the records of `ids`, whatever their versions: the old id, if
   * any, then the current one. An id with no record is no error.
   */
  delete(ids: readonly string[]): Promise<unknown> | void;
  /**
   * Deletes an expired record `read` found, on a best-effort basis: a
   * failure is ignored. Deletes it only if its version is still `version`,
   * where the backend makes that cheap. Stores that drop expired records by
   * themselves leave it out.
   */
  discard?(id: string, version: unknown): Promise<unknown>;
  /**
   * Whether the store can hold `id`; `read` neither looks up nor adopts an
   * id it cannot. Every id when left out.
   */
  accepts?(id: string): boolean;
  /** The per-user index; required when the store takes `indexBy`. */
  index?: RecordIndex;
}

/**
 * How many times a save tries its compare-and-set before it gives up: each
 * failed try means another save of the same session landed in between.
 * Another process whose own saves of the session take turns can land one
 * after another for a while, so the bound is generous; the waits between
 * tries are capped (see below), which keeps a give-up to about a second.
 */
export const MAX_SAVE_TRIES = 30;

// destroySessions lists the user's sessions again while a listing ends some
// or finds moved ones; sessions that keep logging in meanwhile cannot hold
// it longer than this many listings.
const MAX_DESTROY_ROUNDS = 5;

// The longest wait between two tries, in milliseconds.
const MAX_BACKOFF_MS = 50;

/**
 * How the sessions of a store expire, whether it adopts unknown ids and
 * which value it indexes.
 */
export interface ServerStorageOptions {
  useUnknownIds: boolean;
  expiry: Expiry;
  /** The ttl in milliseconds, or undefined when sessions never expire. */
  ttl: number | undefined;
  /** The session value the per-user index is keyed by, if any. */
  indexBy?: string;
}

/**
 * Checks the options every server-side store takes and returns them
 * resolved; `factory` names the store's factory in error messages.
 */
export function serverOptions(
  factory: string,
  options: ServerSessionStorageOptions,
): ServerStorageOptions {
  const useUnknownIds = booleanOption(
    factory,
    "useUnknownIds",
    options.useUnknownIds,
    false,
    "Leave it out to refuse unknown ids.",
  );
  const ttl = secondsOption(factory, "ttl", options.ttl);
  const maxLifetime = secondsOption(
    factory,
    "maxLifetime",
    options.maxLifetime,
  );
  const { indexBy } = options;
  if (indexBy !== undefined && (typeof indexBy !== "string" || !indexBy)) {
    throw new TypeError(
      `${factory}: option "indexBy" must be the name of a session value, ` +
        `such as "userId", got ${describeValue(indexBy)}.`,
    );
  }
  return {
    useUnknownIds,
    expiry: new Expiry(ttl, maxLifetime),
    ttl,
    indexBy,
  };
}

/**
 * Checks a store's option `name` that must be true or false, and returns
 * it, or `fallback` when it is left out; `advice` ends the error.
 */
export function booleanOption(
  factory: string,
  name: string,
  value: unknown,
  fallback: boolean,
  advice: string,
): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new TypeError(
      `${factory}: option "${name}" must be true or false, got ` +
        `${describeValue(value)}. ${advice}`,
    );
  }
  return value;
}

/**
 * What a store's factory says in its errors about the backend it takes: a
 * client, a database or a store.
 */
export interface BackendSpec {
  /** The factory's name, which starts every error message. */
  factory: string;
  /** The name of the factory's argument that holds the backend. */
  argument: string;
  /** What that argument must be, such as "a Redis client". */
  what: string;
  /** The methods the store calls on the backend. */
  methods: readonly string[];
  /**
   * What the per-user index of the option `indexBy` needs: `false` for a
   * store that keeps none, which refuses the option instead of ignoring
   * it; otherwise the further methods the store then calls, on the backend
   * itself or on its property `on`, and what to pass when one is missing
   * (`advice` when left out). Left out, the option needs nothing more.
   */
  index?: false | {
    methods: readonly string[];
    on?: string;
    advice?: string;
  };
  /** What to pass instead of a value that lacks a method. */
  advice: string;
  /**
   * What to check when a call to the backend fails, for a store that runs
   * its calls through {@linkcode setUpStore}'s `call`.
   */
  hint?: string;
}

/** Runs one call to a store's backend; see {@linkcode setUpStore}. */
export type BackendCall = <T>(
  action: string,
  run: () => Promise<T>,
) => Promise<T>;

/**
 * What every server-side store's factory starts with: checks that
 * `backend` has the methods `spec` names (with the option `indexBy`, those
 * of `spec.index` too) and the options every server-side store takes.
 * Returns the options resolved, and `call`, which runs one call to the
 * backend and turns its failure into an error naming the store, the action
 * and what to check (`spec.hint`). That message never names a key: keys
 * hold session ids.
 */
export function setUpStore(
  spec: BackendSpec,
  backend: unknown,
  options: ServerSessionStorageOptions,
): { settings: ServerStorageOptions; call: BackendCall } {
  const method = missingMethod(backend, spec.methods);
  if (method !== undefined) {
    throw new TypeError(
      `${spec.factory}: argument "${spec.argument}" must be ${spec.what} ` +
        `with a "${method}" method, got ${describeValue(backend)}. ` +
        spec.advice,
    );
  }
  const settings = serverOptions(spec.factory, options);
  const { indexBy } = settings;
  if (indexBy !== undefined && spec.index === false) {
    throw new TypeError(
      `${spec.factory}: option "indexBy" is not supported: this store ` +
        `keeps no per-user index, got ${describeValue(indexBy)}. ` +
        "Leave it out, or use a store that keeps one, such as the Redis " +
        "or PostgreSQL store.",
    );
  }
  if (indexBy !== undefined && spec.index) {
    const { methods, on, advice = spec.advice } = spec.index;
    const index = on === undefined
      ? backend
      : (backend as Record<string, unknown>)[on];
    const lacking = missingMethod(index, methods);
    if (lacking !== undefined) {
      throw new TypeError(
        `${spec.factory}: option "indexBy" needs ${spec.argument}` +
          `${on === undefined ? "" : `.${on}`} with the method ` +
          `"${lacking}", got ${describeValue(index)}. ${advice}`,
      );
    }
  }
  const call: BackendCall = async (action, run) => {
    try {
      return await run();
    } catch (error) {
      throw new Error(
        `${spec.factory}: could not ${action} (${
          (error as Error)?.message ?? String(error)
        }).${spec.hint === undefined ? "" : ` ${spec.hint}`}`,
        { cause: error },
      );
    }
  };
  return { settings, call };
}

/** The first of `methods` that `value` does not have as a function. */
export function missingMethod(
  value: unknown,
  methods: readonly string[],
): string | undefined {
  return methods.find((method) =>
    typeof (value as Record<string, unknown>)?.[method] !== "function"
  );
}

/**
 * Runs `work` once every earlier call with the same `key` on `queues` has
 * settled: a queue per key, in one process.
 */
export function inTurn<T>(
  queues: Map<string, Promise<unknown>>,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  const before = queues.get(key);
  // With no save of this key under way, the work starts at once.
  const result = before === undefined ? work() : before.then(work, work);
  const release = () => {
    if (queues.get(key) === settled) queues.delete(key);
  };
  const settled = result.then(release, release);
  queues.set(key, settled);
  return result;
}

/**
 * The handle of the session `id`: a digest of it, which names the session
 * in a list without giving away the id, a bearer credential.
 */
function handleOf(id: string): string {
  return digest(`session handle\0${id}`);
}

/**
 * The index key of a user value, or undefined for a value that is not
 * indexed: a digest, so that keys, file names and columns have one length.
 */
function userKey(value: unknown): string | undefined {
  if (typeof value !== "string" && !Number.isFinite(value)) return undefined;
  return digest(JSON.stringify(value));
}

// HMAC-SHA256 under a fixed, public key is as one-way as SHA-256, and this
// module computes it in JavaScript, with no node:crypto to load.
const hmac = createHmacSha256(new TextEncoder().encode("@x/session index"));
const utf8 = new TextEncoder();

/** The base64url digest of `text`. */
function digest(text: string): string {
  const out = new Uint8Array(32);
  hmac(byteString(utf8.encode(text)), out);
  return encodeBase64url(out);
}

/** Creates a session storage that keeps records through `store`. */
export function createServerSessionStorage(
  store: RecordStore,
  { useUnknownIds, expiry, indexBy }: Omit<ServerStorageOptions, "ttl">,
): SessionStorage & SessionIndex {
  // Saves of one record in this process take turns, so that overlapping
  // requests cost one retry each instead of racing each other's retries.
  // Requests still run side by side: only the write waits.
  const saves = new Map<string, Promise<unknown>>();

  /** The record `loaded` holds, decoded; none when corrupt or expired. */
  function liveRecord(loaded: LoadedRecord) {
    if (typeof loaded.text !== "string") {
      // Read as a corrupt record, every session would be lost without a
      // word: a store bug (the text itself answered, a column of parsed
      // JSON) to fix, not bad input.
      throw new TypeError(
        "Cannot read the session: the store's load answered " +
          `${describeValue(loaded)}${
            typeof loaded === "object"
              ? ` whose text is ${describeValue(loaded.text)}`
              : ""
          }, where { text: a string, version } or undefined belongs.`,
      );
    }
    const record = decodeRecord(loaded.text);
    return record !== undefined && expiry.isLive(record) ? record : undefined;
  }

  /** What `id` holds, and its live record, decoded, if any. */
  async function loadLive(id: string) {
    const loaded = await store.load(id);
    return loaded == null ? undefined : { loaded, record: liveRecord(loaded) };
  }

  /** The user key of a session's data, when the store keeps an index. */
  function userOf(values: Record<string, unknown>): string | null {
    return indexBy === undefined ? null : userKey(values[indexBy]) ?? null;
  }

  /** The index, and the key of `user`, or a clear error. */
  function indexFor(method: string, user: unknown) {
    if (indexBy === undefined || store.index === undefined) {
      throw new Error(
        `Cannot call storage.${method}(): the store keeps no session index. ` +
          'Create it with the option "indexBy", such as { indexBy: "userId" }.',
      );
    }
    const key = userKey(user);
    if (key === undefined) {
      throw new TypeError(
        `storage.${method}(): the user must be a string or a number, as ` +
          `the session value "${indexBy}" holds, got ${describeValue(user)}.`,
      );
    }
    return { index: store.index, key };
  }

  /**
   * The live sessions indexed under `key`, each checked against its record,
   * and the ids of the stale entries, which are removed.
   */
  async function listLive(index: RecordIndex, key: string) {
    const live: { handle: string; id: string; record: SessionRecord }[] = [];
    const stale: string[] = [];
    for (const id of await index.entries(key)) {
      if (typeof id !== "string") {
        // Such as a Map of handles to ids itself, whose entries are pairs:
        // taken for ids, none would have a record, and the list be empty.
        throw new TypeError(
          "Cannot list the user's sessions: the store's index.entries gave " +
            `${describeValue(id)} where a session id belongs. Give the ids ` +
            "that add was given, such as a Map's values(), not the Map.",
        );
      }
      const handle = handleOf(id);
      const record = (await loadLive(id))?.record;
      if (record && userOf(record.data[0]) === key) {
        live.push({ handle, id, record });
      } else stale.push(id);
    }
    if (stale.length > 0) await index.remove(key, stale.map(handleOf));
    return { live, stale };
  }

  /**
   * Ends the sessions of `user` that `select` picks, listing them up to
   * `rounds` times; how many it ended.
   */
  async function destroyWhere(
    method: string,
    user: unknown,
    select: (handle: string) => boolean,
    rounds: number,
  ): Promise<number> {
    const { index, key } = indexFor(method, user);
    let count = 0;
    // A save that moves a listed session to a new id (regenerateId(true))
    // or copies it (regenerateId()) can land between the listing and the
    // deletes: the new id shows in the next listing, once the saves of the
    // old ids under way in this process, which take their turns by the old
    // id, have indexed it. A save that finds its old id deleted writes
    // nothing.
    for (let round = 0; round < rounds; round++) {
      const { live, stale } = await listLive(index, key);
      const ended = live.filter((s) => select(s.handle));
      for (const { id } of ended) await store.delete([id]);
      if (ended.length > 0) {
        await index.remove(key, ended.map((s) => s.handle));
      }
      count += ended.length;
      if (ended.length === 0 && stale.length === 0) break;
      for (const id of [...ended.map((s) => s.id), ...stale]) {
        await inTurn(saves, id, async () => {});
      }
    }
    return count;
  }

  return {
    handleOf: (session) => handleOf(session.id),

    async listSessions(user): Promise<ListedSession[]> {
      const { index, key } = indexFor("listSessions", user);
      const { live } = await listLive(index, key);
      return live.map(({ handle, record }) => ({
        handle,
        createdAt: record.created,
        lastSeenAt: record.written,
        expiresAt: record.expires,
      })).sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
    },

    destroySessions(user, options = {}) {
      const { except } = options;
      // A session is kept under its id and, until a save moves it, under
      // the id it was read or last saved under.
      const kept = typeof except === "string"
        ? [except]
        : except === undefined
        ? []
        : [except.id, expiry.readOf(except)?.id ?? except.id].map(handleOf);
      return destroyWhere(
        "destroySessions",
        user,
        (h) => !kept.includes(h),
        MAX_DESTROY_ROUNDS,
      );
    },

    async destroySession(user, handle) {
      // One listing: a session moved meanwhile has another handle, which
      // the caller never saw.
      return await destroyWhere(
        "destroySession",
        user,
        (h) => h === handle,
        1,
      ) > 0;
    },

    async read(cookie) {
      if (!cookie || store.accepts?.(cookie) === false) return createSession();
      const pending = store.load(cookie);
      // A store that answers at once (memory) is not awaited: an await
      // costs a turn of the microtask queue, a tenth of such a read.
      const loaded = isThenable(pending) ? await pending : pending;
      if (loaded != null) {
        const record = liveRecord(loaded);
        if (record !== undefined) {
          const session = adoptSession(cookie, record.data);
          expiry.remember(session, record, cookie, loaded.version);
          return session;
        }
        if (store.discard) {
          // Best effort, however the store answers or fails.
          try {
            await store.discard(cookie, loaded.version);
          } catch {
            // The record expired: a read never returns it.
          }
        }
      }
      return createSession(useUnknownIds ? cookie : undefined);
    },

    async save(session) {
      const { id, deleteId } = session;
      // The id the session was read under or, once a save wrote it, the id
      // that save wrote.
      const read = expiry.readOf(session);
      if (session.destroyed) {
        const ids = new Set([deleteId, read?.id, id]);
        ids.delete(undefined);
        await store.delete([...ids] as string[]);
        return "";
      }
      // A clean session has no old id to delete: regenerating marks it dirty.
      if (!expiry.mustWrite(session)) return null;
      // regenerateId(true) moves the record read or last written under
      // another id to `id`; otherwise such a session is written back in
      // place, and a new or regenerateId() session creates a record, the
      // latter from the record it came from as it is now.
      const moves = read !== undefined && deleteId !== undefined &&
        read.id !== id;
      const inPlace = read?.id === id;
      const copies = read !== undefined && !moves && !inPlace;
      const baseId = moves ? read.id : id;
      let expected = inPlace ? read.version : undefined;
      let oldExpected = read?.version;
      // A copy takes its turn by the id it copies, for destroySessions.
      return inTurn(saves, copies ? read.id : baseId, async () => {
        let data = session.data;
        /**
         * Applies this request's changes onto what `baseId` holds now and
         * expects its version; false when the record this request read or
         * wrote is gone (destroyed, moved by regenerateId(true), expired or
         * evicted): writing it again would undo a logout.
         */
        const rebase = async () => {
          const base = await loadLive(baseId);
          if ((inPlace || moves) && !base?.record) return false;
          if (moves) oldExpected = base!.loaded.version;
          else expected = base?.loaded.version;
          if (base?.record) data = session.mergeOnto(base.record.data);
          return true;
        };
        // Saved before in this request: the version that save wrote is
        // unknown, and another request may have changed or ended it since.
        if ((inPlace || moves) && read.version === undefined) {
          if (!await rebase()) return null;
        }
        if (copies) {
          // A logout meanwhile is final here too, and changes saved
          // meanwhile under the old id are carried over.
          const source = await loadLive(read.id);
          if (!source?.record) return null;
          if (source.loaded.version !== read.version) {
            data = session.mergeOnto(source.record.data);
          }
        }
        for (let tries = 0; tries < MAX_SAVE_TRIES; tries++) {
          const times = expiry.timesFor(session);
          const user = userOf(data[0]);
          const writing = store.write({
            id,
            text: encodeRecord(data, times),
            expires: times.expires,
            expected,
            user,
            ...(moves ? { oldId: read.id, oldExpected } : {}),
          });
          const written = isThenable(writing) ? await writing : writing;
          if (typeof written !== "boolean") {
            // Taken as true, a refused write would lose this request's
            // changes or undo a logout; taken as false, the save would retry
            // until it gave up, blaming overlapping saves.
            throw new TypeError(
              "Cannot save the session: the store's write answered " +
                `${describeValue(written)}, not true or false. Answer true ` +
                "when it wrote the record, false when a version check failed.",
            );
          }
          if (written) {
            // After the write, so that an entry never names a record that
            // was not written; a crash in between leaves the session
            // unlisted until its next save, which adds the entry again.
            if (user !== null) {
              await store.index?.add(user, handleOf(id), id, times.expires);
            }
            // The write deleted the record read or last written, if it
            // moved it; the original id is another one when the session was
            // never read (an expired or adopted record may linger there) or
            // was saved under an id from regenerateId() in between.
            if (deleteId !== undefined && deleteId !== read?.id) {
              await store.delete([deleteId]);
            }
            expiry.written(session, times, id);
            return id;
          }
          // Another save landed first.
          if (!await rebase()) return null;
          // A second miss means another process writes this session too:
          // step aside for a random while, longer each time.
          if (tries > 0) {
            await sleep(Math.random() * Math.min(2 ** tries, MAX_BACKOFF_MS));
          }
        }
        throw new Error(
          `Cannot save the session: ${MAX_SAVE_TRIES} other saves of the same ` +
            "session landed while this one was being written. Retry the " +
            "request, or make fewer overlapping requests on one session.",
        );
      });
    },
  };
}

/** Whether `value` is a promise, or another thenable, to await. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as PromiseLike<T>)?.then === "function";
}

/** Waits `ms` milliseconds, on a plain timer: no `node:` module needed. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
