// A clock a test controls: while `withClock` runs its callback, Date.now()
// returns the time the test set, so that expiry boundaries are checked
// exactly instead of by waiting. The real Date.now comes back afterwards,
// whether the callback passed or threw.

/** The time a test sets; Date.now() returns `now`. */
export interface Clock {
  now: number;
}

/** Runs `test` with Date.now() pinned to a time the test moves by hand. */
export async function withClock(
  test: (clock: Clock) => Promise<void>,
): Promise<void> {
  const realNow = Date.now;
  const clock: Clock = { now: realNow() };
  Date.now = () => clock.now;
  try {
    await test(clock);
  } finally {
    Date.now = realNow;
  }
}
