// How much of serialize is the percent-encoding of a JSON value: serialize
// and the node:crypto floor, once with the JSON session value of the cookie
// benchmark and once with the same bytes in base64url, the cookie-safe form
// the session stores hand to the cookie (ids, the cookie store's value).
//
// Usage: deno run -A bench/safe_value.ts | bun bench/safe_value.ts |
//        node bench/safe_value.ts

import { createHmac } from "node:crypto";
import { Buffer } from "node:buffer";
import { createCookie } from "../cookie.ts";
import { ATTRIBUTES, MAX_AGE, SECRET, SESSION_VALUE } from "./_fixtures.ts";
import { formatNs, measureGroup } from "./_measure.ts";

const cookie = createCookie("sid", {
  secrets: [SECRET],
  secure: true,
  maxAge: MAX_AGE,
});
const safe = Buffer.from(SESSION_VALUE).toString("base64url");
const floor = (value: string) =>
  `sid=${value}.${
    createHmac("sha256", SECRET).update(value).digest("base64url")
  }; ${ATTRIBUTES}`;

const timings = await measureGroup({
  name: "serialize",
  cases: [
    {
      name: "serialize, JSON value",
      kind: "module",
      fn: () => cookie.serialize(SESSION_VALUE),
    },
    {
      name: "floor, JSON value",
      kind: "floor",
      fn: () => floor(SESSION_VALUE),
    },
    {
      name: "serialize, base64url value",
      kind: "module",
      fn: () => cookie.serialize(safe),
    },
    { name: "floor, base64url value", kind: "floor", fn: () => floor(safe) },
  ],
}, { rounds: 31, batchMs: 4, warmupMs: 200 });
for (let i = 0; i < timings.length; i += 2) {
  const [ours, floorTiming] = [timings[i], timings[i + 1]];
  console.log(
    `${ours.name}: ${formatNs(ours.minNs)}, ${floorTiming.name}: ` +
      `${formatNs(floorTiming.minNs)}, ${
        (ours.minNs / floorTiming.minNs).toFixed(2)
      }x the floor's time`,
  );
}
