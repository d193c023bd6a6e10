// The read and save logic the server-side stores share: what a stored record
// means, when it has expired, when a session must be written, and which ids
// a save deletes. Each store brings only its own primitives. Not part of the
// public API.

import {
  createSession,
  type ServerSessionStorageOptions,
  type SessionStorage,
} from "./session.ts";
import {
  decodeRecord,
  encodeRecord,
  Expiry,
  ttlMilliseconds,
} from "./_record.ts";
import { describeValue } from "./_describe.ts";

/** The primitives a server-side store keeps records with. */
export interface RecordStore {
  /** The stored text of `id`, or `undefined` when there is none. */
  load(id: string): Promise<string | undefined> | string | undefined;
  /**
   * Writes `text`, which expires at `expires` (Unix ms, or null), under
   * `id`, and deletes `oldId` when given, with whatever ordering or
   * atomicity keeps a failed save from leaving the client with no session.
   */
  write(
    id: string,
    text: string,
    oldId: string | undefined,
    expires: number | null,
  ): Promise<unknown> | void;
  /** Deletes the records of `ids`: the old id, if any, then the current one. */
  delete(ids: readonly string[]): Promise<unknown> | void;
  /**
   * Deletes an expired record `read` found, on a best-effort basis: a
   * failure is ignored. Stores that drop expired records by themselves
   * leave it out.
   */
  discard?(id: string): Promise<unknown>;
  /**
   * Whether the store can hold `id`; `read` neither looks up nor adopts an
   * id it cannot. Every id when left out.
   */
  accepts?(id: string): boolean;
}

/** How the sessions of a store expire and whether it adopts unknown ids. */
export interface ServerStorageOptions {
  useUnknownIds: boolean;
  expiry: Expiry;
  /** The ttl in milliseconds, or undefined when sessions never expire. */
  ttl: number | undefined;
}

/**
 * Checks the options every server-side store takes and returns them
 * resolved; `factory` names the store's factory in error messages.
 */
export function serverOptions(
  factory: string,
  options: ServerSessionStorageOptions,
): ServerStorageOptions {
  const useUnknownIds = options.useUnknownIds ?? false;
  if (typeof useUnknownIds !== "boolean") {
    throw new TypeError(
      `${factory}: option "useUnknownIds" must be true or false, got ` +
        `${describeValue(useUnknownIds)}. Leave it out to refuse unknown ids.`,
    );
  }
  const ttl = ttlMilliseconds(factory, options.ttl);
  return { useUnknownIds, expiry: new Expiry(ttl), ttl };
}

/**
 * Checks that `value`, the store's `argument`, is `what` (such as "a Redis
 * client"): that it has every method of `methods`. `advice` says what to
 * pass instead.
 */
export function assertMethods(
  factory: string,
  argument: string,
  value: unknown,
  { what, methods, advice }: {
    what: string;
    methods: readonly string[];
    advice: string;
  },
): void {
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)?.[method] !== "function") {
      throw new TypeError(
        `${factory}: argument "${argument}" must be ${what} with a ` +
          `"${method}" method, got ${describeValue(value)}. ${advice}`,
      );
    }
  }
}

/**
 * Returns a function that runs one call to a store's backend and turns its
 * failure into an error naming the store, the action and `hint` (what to
 * check). The message never names a key: keys hold session ids.
 */
export function backendCalls(
  factory: string,
  hint: string,
): <T>(action: string, run: () => Promise<T>) => Promise<T> {
  return async (action, run) => {
    try {
      return await run();
    } catch (error) {
      throw new Error(
        `${factory}: could not ${action} (${
          (error as Error)?.message ?? String(error)
        }). ${hint}`,
        { cause: error },
      );
    }
  };
}

/** Creates a session storage that keeps records through `store`. */
export function createServerSessionStorage(
  store: RecordStore,
  { useUnknownIds, expiry }: Omit<ServerStorageOptions, "ttl">,
): SessionStorage {
  return {
    async read(cookie) {
      if (!cookie || store.accepts?.(cookie) === false) return createSession();
      const text = await store.load(cookie);
      const record = text === undefined ? undefined : decodeRecord(text);
      if (record && !expiry.isPast(record.expires)) {
        const session = createSession(cookie, record.data);
        expiry.remember(session, record.expires);
        return session;
      }
      if (record && store.discard) await store.discard(cookie).catch(() => {});
      return createSession(useUnknownIds ? cookie : undefined);
    },

    async save(session) {
      const { id, deleteId } = session;
      if (session.destroyed) {
        await store.delete(deleteId === undefined ? [id] : [deleteId, id]);
        return "";
      }
      // A clean session has no old id to delete: regenerating marks it dirty.
      if (!expiry.mustWrite(session)) return null;
      const expires = expiry.fromNow();
      await store.write(
        id,
        encodeRecord(session.data, expires),
        deleteId,
        expires,
      );
      expiry.remember(session, expires);
      return id;
    },
  };
}
