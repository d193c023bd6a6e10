// The cookie benchmark under Bun and Node, with mitata: the same groups and
// cases as cookie_bench.ts runs under `deno bench`.
//
// Usage: bun bench/cookie_mitata.ts [--json FILE]
//        node bench/cookie_mitata.ts [--json FILE]   (Node 22.18+ runs .ts)

import { bench, group, run, summary } from "mitata";
import { writeFileSync } from "node:fs";
import process from "node:process";
import { cookieGroups } from "./_cookie_cases.ts";
import { libraries } from "./_bare.ts";

const groups = await cookieGroups(libraries);

const registered: { group: string; name: string; kind: string }[] = [];
for (const { name: groupName, cases } of groups) {
  group(groupName, () => {
    summary(() => {
      for (const { name, kind, fn } of cases) {
        bench(name, fn).baseline(kind === "module");
        registered.push({ group: groupName, name, kind });
      }
    });
  });
}

const { context, benchmarks } = await run({ colors: false });

const jsonAt = process.argv.indexOf("--json");
if (jsonAt !== -1) {
  const results = benchmarks.map((trial, index) => {
    const stats = trial.runs[0]?.stats;
    return {
      ...registered[index],
      avgNs: stats?.avg,
      medianNs: stats?.p50,
      minNs: stats?.min,
    };
  });
  writeFileSync(
    process.argv[jsonAt + 1],
    JSON.stringify({ runtime: context.runtime, results }, null, 2),
  );
}
