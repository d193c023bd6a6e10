// Listing the files a store wrote, for tests that look at them on disk.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** The paths of every file below `dir`, in subfolders too; none if it is missing. */
export function filesBelow(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...filesBelow(path));
    else files.push(path);
  }
  return files;
}
