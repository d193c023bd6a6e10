import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Expiry } from "./_record.ts";
import { createSession } from "./session.ts";
import { withClock } from "./testing/clock.ts";

describe("expiry", () => {
  it("expiry: a session expires at exactly its expiry time, not a millisecond later", () =>
    withClock(async (clock) => {
      const expiry = new Expiry(60_000);
      const expires = expiry.timesFor(createSession()).expires!;
      assert.equal(expires, clock.now + 60_000);
      clock.now = expires - 1;
      assert.equal(expiry.isPast(expires), false);
      clock.now = expires;
      assert.equal(expiry.isPast(expires), true);
      assert.equal(expiry.isPast(null), false, "no expiry never passes");
      const created = clock.now;
      assert.equal(expiry.isLive({ expires, created }), false);
      clock.now = expires - 1;
      assert.equal(expiry.isLive({ expires, created }), true);
    }));

  it("expiry: an unchanged session is written again once less than half its ttl is left", () =>
    withClock(async (clock) => {
      const expiry = new Expiry(60_000);
      const session = createSession("id", [{ n: 1 }, {}]);
      const expires = clock.now + 60_000;
      expiry.remember(session, {
        data: [{ n: 1 }, {}],
        expires,
        created: clock.now,
        written: clock.now,
      });
      clock.now = expires - 30_000;
      assert.equal(expiry.mustWrite(session), false);
      clock.now = expires - 29_999;
      assert.equal(expiry.mustWrite(session), true);
    }));
});
