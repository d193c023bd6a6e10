// testing/workerd_app.ts with the fs store, for workerd with `nodejs_compat`,
// where `node:fs` exists but keeps what a request writes for that request
// only: creating the store must fail with an error that says so. It also runs
// the conformance suite's cases on the memory store, which needs the
// `node:assert` that only `nodejs_compat` brings.

import worker from "./workerd_app.ts";
import { createFsSessionStorage } from "../fs_storage.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import { sessionStorageCases } from "../conformance/mod.ts";

/** The names of the cases that failed, with their errors, and how many passed. */
async function conformance(): Promise<Response> {
  const cases = sessionStorageCases({
    name: "memory store in workerd",
    create: (options) => createMemorySessionStorage(options),
    ttl: 0.5,
    maxLifetime: 1,
    concurrencySeconds: 0.2,
  });
  const failed: string[] = [];
  for (const { name, fn } of cases) {
    try {
      await fn();
    } catch (error) {
      failed.push(`${name}: ${(error as Error).message}`);
    }
  }
  return Response.json({ passed: cases.length - failed.length, failed });
}

export default {
  fetch(
    request: Request,
    env: never,
    ctx: never,
  ): Promise<Response> | Response {
    const { pathname } = new URL(request.url);
    if (pathname === "/conformance") return conformance();
    if (pathname !== "/fs") return worker.fetch(request, env, ctx);
    try {
      createFsSessionStorage("/tmp/sessions");
      return new Response("created");
    } catch (error) {
      return new Response((error as Error).message);
    }
  },
};
