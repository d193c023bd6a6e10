// A process's resident set size, read from /proc (Linux only).

import { readFileSync } from "node:fs";

/** The resident set size of process `pid` in bytes; 0 once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return 1024 * Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}
