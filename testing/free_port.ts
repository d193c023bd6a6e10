// Test helper: asks the OS for a free TCP port on 127.0.0.1, for the servers
// the tests start. Not part of the public API.

import { createServer } from "node:net";

/**
 * A port of 127.0.0.1 that was free a moment ago: `port` when given and
 * free, or one the OS picks; `undefined` when `port` is taken.
 */
export function freePort(port = 0): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const found = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(found));
    });
  });
}
