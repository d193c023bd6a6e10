import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeRecord,
  encodeRecord,
  Expiry,
  secondsOption,
} from "./_record.ts";
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

  it("expiry: a ttl or maxLifetime of no whole number of milliseconds gives expiries in whole milliseconds", () =>
    withClock(async (clock) => {
      const ttl = secondsOption("test", "ttl", 3600.0005);
      const maxLifetime = secondsOption("test", "maxLifetime", 60.0004);
      assert.equal(ttl, 3_600_001);
      assert.equal(maxLifetime, 60_000);
      assert.equal(secondsOption("test", "ttl", 1e-6), 1, "at least 1 ms");
      const session = createSession();
      assert.equal(
        new Expiry(ttl).timesFor(session).expires,
        clock.now + 3_600_001,
      );
      assert.equal(
        new Expiry(undefined, maxLifetime).timesFor(session).expires,
        clock.now + 60_000,
      );
    }));
});

describe("record", () => {
  it("record: the text is what JSON.stringify gives the record's fields, and reads back", () =>
    withClock(async (clock) => {
      clock.now = 1_764_225_000_000;
      const odd = JSON.parse(
        '{"__proto__":{"x":1},"1":"one","quote\\"":"\\u2028"}',
      );
      const cases: {
        data: [Record<string, unknown>, Record<string, unknown>];
        times: { expires: number | null; created: number };
        id?: string;
      }[] = [
        { data: [{ n: 1 }, {}], times: { expires: null, created: 5 } },
        {
          data: [odd, { f: [1.5e-7, -0] }],
          times: { expires: 9e15, created: 0 },
        },
        { data: [{}, {}], times: { expires: 2, created: 1 }, id: 'id "x"' },
      ];
      for (const { data, times, id } of cases) {
        const text = encodeRecord(data, times, id);
        assert.equal(
          text,
          JSON.stringify({
            i: id,
            d: data,
            e: times.expires,
            c: times.created,
            w: 1_764_225_000_000,
          }),
        );
        assert.deepEqual(decodeRecord(text), {
          data: JSON.parse(JSON.stringify(data)),
          expires: times.expires,
          created: times.created,
          written: 1_764_225_000_000,
          id,
        });
      }
    }));
});

describe("expiry memo", () => {
  it("expiry: two stores that handle one session each remember their own read of it", () => {
    const first = new Expiry(undefined);
    const second = new Expiry(undefined);
    const session = createSession("id", [{ n: 1 }, {}]);
    first.remember(
      session,
      {
        data: [{}, {}],
        expires: null,
        created: 5,
        written: 6,
      },
      "id",
      1,
    );
    second.written(session, { created: 7, expires: null });
    assert.equal(first.timesFor(session).created, 5);
    assert.equal(first.readOf(session)?.id, "id");
    assert.equal(first.readOf(session)?.version, 1);
    assert.equal(second.timesFor(session).created, 7);
    assert.equal(second.readOf(session), undefined);
    first.written(session, { created: 5, expires: 9 });
    assert.equal(first.readOf(session)?.version, 1);
    assert.equal(second.timesFor(session).created, 7);
  });
});
