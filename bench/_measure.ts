// A small timing harness for comparisons that must hold on a busy machine:
// the cases of a group run in interleaved rounds, each round times a batch of
// calls per case, and the fastest batch stands for the case. Load from other
// processes only ever adds time, so the fastest batch is the estimate that
// noise disturbs least, and interleaving exposes every case to the same load.

import process from "node:process";
import type { Case, CaseKind, Group } from "./_cookie_cases.ts";

/** What was measured for one case. */
export interface Timing {
  name: string;
  kind: CaseKind;
  /** Nanoseconds per call in the fastest batch. */
  minNs: number;
  /** Nanoseconds per call in the median batch. */
  medianNs: number;
  /** Calls timed in all. */
  calls: number;
  /**
   * With `cpuToo`: CPU nanoseconds per call (this process, plus the
   * processes `otherCpuMs` counts) in the batch of least CPU, and the median.
   */
  cpuMinNs?: number;
  cpuMedianNs?: number;
}

/** How long to measure. */
export interface MeasureOptions {
  /** Rounds of batches; each case gets one batch per round. */
  rounds: number;
  /** Target duration of a batch in milliseconds. */
  batchMs: number;
  /** Warm-up time per case in milliseconds, before batch sizes are chosen. */
  warmupMs: number;
  /**
   * What a batch is timed by: "wall" (the default) or "cpu", the process's
   * user + system CPU time, which time spent waiting for a core that other
   * processes hold does not inflate. Only for cases that never wait on I/O.
   */
  clock?: "wall" | "cpu";
  /**
   * Also time each batch by CPU time, for cases that wait on I/O: the CPU
   * they cost, which other processes disturb little, beside the latency.
   */
  cpuToo?: boolean;
  /** CPU milliseconds of other processes the cases use (a database). */
  otherCpuMs?: () => number;
}

/** The process's CPU time in milliseconds. */
function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Times every case of a group. */
export async function measureGroup(
  group: Group,
  options: MeasureOptions,
): Promise<Timing[]> {
  const runners = [];
  for (const item of group.cases) {
    const run = await runnerFor(item);
    // Warm up until the JIT has settled, and learn the cost of a call.
    let calls = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < options.warmupMs && calls < 10_000_000) {
      await run(16);
      calls += 16;
      elapsed = performance.now() - started;
    }
    const perCall = elapsed / calls;
    const batch = Math.max(8, Math.round(options.batchMs / perCall));
    runners.push({
      item,
      run,
      batch,
      samples: [] as number[],
      cpuSamples: [] as number[],
    });
  }
  const now = options.clock === "cpu" ? cpuNow : () => performance.now();
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order so that no case always runs right after another.
    for (let i = 0; i < runners.length; i++) {
      const runner = runners[(i + round) % runners.length];
      const cpu = () => cpuNow() + (options.otherCpuMs?.() ?? 0);
      const cpuStarted = options.cpuToo ? cpu() : 0;
      const started = now();
      await runner.run(runner.batch);
      runner.samples.push((now() - started) * 1e6 / runner.batch);
      if (options.cpuToo) {
        runner.cpuSamples.push((cpu() - cpuStarted) * 1e6 / runner.batch);
      }
    }
  }
  const median = (sorted: number[]) => sorted[Math.floor(sorted.length / 2)];
  return runners.map(({ item, batch, samples, cpuSamples }) => {
    const sorted = samples.toSorted((a, b) => a - b);
    const cpuSorted = cpuSamples.toSorted((a, b) => a - b);
    return {
      name: item.name,
      kind: item.kind,
      minNs: sorted[0],
      medianNs: median(sorted),
      calls: batch * samples.length,
      ...(options.cpuToo
        ? { cpuMinNs: cpuSorted[0], cpuMedianNs: median(cpuSorted) }
        : {}),
    };
  });
}

/**
 * A function that calls the case `count` times. Synchronous cases are called
 * in a plain loop, so they do not pay for an `await` they would not have.
 */
async function runnerFor(
  item: Case,
): Promise<(count: number) => Promise<void> | void> {
  const { fn } = item;
  const first = fn();
  if (first instanceof Promise) {
    await first;
    return async (count) => {
      for (let i = 0; i < count; i++) await fn();
    };
  }
  let sink: unknown = first;
  return (count) => {
    for (let i = 0; i < count; i++) sink = fn();
    if (sink === undefined) throw new Error("unreachable");
  };
}

/** Formats nanoseconds for a table: "1.23 µs". */
export function formatNs(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${ns.toFixed(0)} ns`;
}

/** Formats calls per second with thousands separators. */
export function formatRate(ns: number): string {
  return Math.round(1e9 / ns).toLocaleString("en-US");
}
