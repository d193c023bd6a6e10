// deno-lint-ignore-file no-import-prefix
// The memory store's heap per 100,000 sessions, against
// @remix-run/session's memory store, each holding the realistic session.
//
// Usage: deno run -A --v8-flags=--expose-gc bench/memory_heap.ts [--json FILE]

import { createMemorySessionStorage as remixMemory } from "npm:@remix-run/session@0.4.1/memory-storage";
import { writeFileSync } from "node:fs";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { MODULE_NAME } from "./_cookie_cases.ts";
import { firstSession, MANY_SESSIONS, type StoreLike } from "./_stores.ts";

/** Heap used per 100,000 sessions, in bytes. */
export interface HeapResult {
  name: string;
  bytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  throw new Error(
    "bench/memory_heap.ts: run it with --v8-flags=--expose-gc so that the " +
      "heap can be measured after a full garbage collection.",
  );
}

function heapUsed(): number {
  gc!();
  gc!();
  return Deno.memoryUsage().heapUsed;
}

async function measure(name: string, create: () => StoreLike) {
  const before = heapUsed();
  const store = create();
  for (let i = 0; i < MANY_SESSIONS; i++) await firstSession(store);
  const bytes = heapUsed() - before;
  // Keep the store alive until the heap was measured.
  if (typeof store.read !== "function") throw new Error("unreachable");
  return { name, bytes };
}

const results: HeapResult[] = [
  await measure(MODULE_NAME, () => createMemorySessionStorage()),
  await measure(
    "@remix-run/session 0.4.1",
    () => remixMemory() as StoreLike,
  ),
];
for (const { name, bytes } of results) {
  console.log(
    `${name.padEnd(26)} ${(bytes / 1024 / 1024).toFixed(1)} MiB per ` +
      `${MANY_SESSIONS.toLocaleString("en-US")} sessions`,
  );
}
const jsonAt = Deno.args.indexOf("--json");
if (jsonAt !== -1) {
  writeFileSync(Deno.args[jsonAt + 1], JSON.stringify(results, null, 2));
}
