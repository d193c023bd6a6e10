/**
 * Server-side sessions for Deno, Bun and Node: a {@linkcode Session} with
 * values, flash values and id regeneration, and stores that keep sessions in
 * memory, in files, or in the cookie itself.
 *
 * @example Counting visits across requests
 * ```ts
 * import { createMemorySessionStorage } from "@x/session";
 * import assert from "node:assert/strict";
 *
 * const storage = createMemorySessionStorage();
 *
 * async function handleRequest(cookie: string | null) {
 *   const session = await storage.read(cookie);
 *   session.set("count", Number(session.get("count") ?? 0) + 1);
 *   return { session, cookie: await storage.save(session) };
 * }
 *
 * const first = await handleRequest(null);
 * const second = await handleRequest(first.cookie);
 * assert.equal(second.session.get("count"), 2);
 * ```
 *
 * @module
 */

export * from "./session.ts";
export * from "./memory_storage.ts";
export * from "./fs_storage.ts";
export * from "./cookie_storage.ts";
export * from "./redis_storage.ts";
export * from "./kv_storage.ts";
export * from "./sqlite_storage.ts";
export * from "./postgres_storage.ts";
export * from "./cookie.ts";
export * from "./middleware.ts";
export * from "./csrf.ts";
