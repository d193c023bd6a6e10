import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sessionMiddleware as honoMiddleware } from "./hono.ts";
import { sessionMiddleware as expressMiddleware } from "./express.ts";
import { createReactRouterSessionStorage } from "./react_router.ts";
import { createCookie } from "./cookie.ts";
import { createMemorySessionStorage } from "./memory_storage.ts";
import type { SessionMiddlewareOptions } from "./middleware.ts";

const ADAPTERS: Array<
  [string, (options: SessionMiddlewareOptions) => unknown]
> = [
  ["sessionMiddleware", honoMiddleware],
  ["sessionMiddleware", expressMiddleware],
  ["createReactRouterSessionStorage", createReactRouterSessionStorage],
];

describe("framework adapters", () => {
  it("framework adapters: an unsigned cookie is refused when the adapter is created, naming the adapter", () => {
    for (const [name, create] of ADAPTERS) {
      assert.throws(
        () =>
          create({
            cookie: createCookie("sid"),
            storage: createMemorySessionStorage(),
          }),
        new RegExp(
          `^TypeError: ${name}: option "cookie" is the unsigned cookie "sid"`,
        ),
      );
    }
  });

  it("framework adapters: a storage without read and save is refused when the adapter is created", () => {
    for (const [name, create] of ADAPTERS) {
      assert.throws(
        () =>
          create({
            cookie: createCookie("sid", {
              secrets: ["a test secret that is at least 32 bytes long"],
            }),
            storage: new Map() as never,
          }),
        new RegExp(`^TypeError: ${name}: option "storage" must be a session`),
      );
    }
  });
});
