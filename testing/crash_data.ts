// Shared by the fs crash test and its child process.

/**
 * The value a crash-test session holds in `slot` at version `v`: its size
 * varies from save to save, and its content says which save wrote it.
 */
export function padFor(slot: number, v: number): string {
  return `${slot}.${v}|`.repeat(1 + ((slot * 31 + v * 17) % 400));
}
