// testing/workerd_app.ts with the fs store, for workerd with `nodejs_compat`,
// where `node:fs` exists but keeps what a request writes for that request
// only: creating the store must fail with an error that says so.

import worker from "./workerd_app.ts";
import { createFsSessionStorage } from "../fs_storage.ts";

export default {
  fetch(
    request: Request,
    env: never,
    ctx: never,
  ): Promise<Response> | Response {
    if (new URL(request.url).pathname !== "/fs") {
      return worker.fetch(request, env, ctx);
    }
    try {
      createFsSessionStorage("/tmp/sessions");
      return new Response("created");
    } catch (error) {
      return new Response((error as Error).message);
    }
  },
};
