// A slot on each Session where the store that read or wrote it keeps what it
// must remember until the save: the record's version, expiry and creation
// time. A private field of Session, reached through the functions below, so
// it is no part of the public API and invisible to inspection. Stores kept
// this in WeakMaps before: a WeakMap entry per request cost more than the
// rest of a memory store's round trip together, most of it in garbage
// collection of the dead entries.

import type { Session } from "./session.ts";

let get: (session: Session) => unknown;
let set: (session: Session, memo: unknown) => boolean;

/** Called once by session.ts with the accessors of its private field. */
export function provideMemoSlot(
  getter: typeof get,
  setter: typeof set,
): void {
  get = getter;
  set = setter;
}

/**
 * What `owner` remembers of each session: in the session's slot, or, for a
 * session whose slot another owner took (one session saved to two
 * storages) and for objects that are no Session, in a WeakMap.
 */
export class SessionMemo<T extends object> {
  #others: WeakMap<Session, T> | undefined;

  /** What was remembered of `session`, if anything. */
  get(session: Session): T | undefined {
    const memo = get(session) as { owner?: unknown } | undefined;
    if (memo?.owner === this) return memo as T;
    return this.#others?.get(session);
  }

  /** Remembers `memo`, whose `owner` must be this. */
  set(session: Session, memo: T & { owner: SessionMemo<T> }): void {
    const taken = get(session) as { owner?: unknown } | undefined;
    if ((taken === undefined || taken.owner === this) && set(session, memo)) {
      return;
    }
    (this.#others ??= new WeakMap()).set(session, memo);
  }
}
