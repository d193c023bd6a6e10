// Cookie signing, verifying and encryption against the libraries people use
// today. Run with `deno task bench` (everything, with a report) or
// `deno bench -A bench/cookie_bench.ts` (this file alone).

import { cookieGroups } from "./_cookie_cases.ts";
import { libraries } from "./_npm.ts";

for (const group of await cookieGroups(libraries)) {
  for (const { name, kind, fn } of group.cases) {
    // deno bench awaits only functions declared async: a plain function that
    // returns a promise would be timed up to the promise's creation, and
    // leave the work piling up behind the benchmark.
    const returnsPromise = fn() instanceof Promise;
    Deno.bench(
      name,
      { group: group.name, baseline: kind === "module" },
      returnsPromise
        ? async () => {
          await fn();
        }
        : fn as () => void,
    );
  }
}
