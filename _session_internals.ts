// What the stores reach of a Session beyond its public API, through
// functions session.ts hands over once, so that none of it is public or
// visible to inspection:
// - a slot where the store that read or wrote a session keeps what it must
//   remember until the save: the record's version, expiry and creation time.
//   Stores kept this in WeakMaps before: a WeakMap entry per request cost
//   about a sixth of a memory store's round trip, most of it in garbage
//   collection of the dead entries;
// - a constructor that takes the objects a store just decoded as the
//   session's own, where the public one copies them.

import type { Session, SessionData } from "./session.ts";

let get: (session: Session) => unknown;
let set: (session: Session, memo: unknown) => boolean;
let adopt: (id: string, data: SessionData) => Session;

/** Called once by session.ts with the functions above. */
export function provideSessionInternals(internals: {
  getMemo: typeof get;
  setMemo: typeof set;
  adopt: typeof adopt;
}): void {
  ({ getMemo: get, setMemo: set, adopt } = internals);
}

/**
 * A session of `id` holding `data`, which it takes as its own: `data` must
 * be plain objects that nothing else refers to, such as JSON.parse returns.
 */
export function adoptSession(id: string, data: SessionData): Session {
  return adopt(id, data);
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
