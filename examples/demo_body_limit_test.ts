// check: runtimes node26

// The demo refuses a login body over its 4096-byte limit before reading it:
// a declared length over the limit is refused unread, and a body sent in
// chunks is cancelled as soon as it passes the limit. Each runtime's demo is
// sent a 200 MiB chunked body over loopback while its memory is read from
// /proc.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Buffer } from "node:buffer";
import { type Runtime, RUNTIMES, startDemo } from "./_demo_server.ts";
import { rssBytes } from "../testing/rss.ts";

const MiB = 1024 * 1024;
const BODY_BYTES = 200 * MiB;
// Every upload ends by this time, answered or not.
const UPLOAD_MS = 60_000;

interface Upload {
  status: number | undefined;
  sent: number;
  peakRss: number;
}

/**
 * POSTs up to `total` bytes in 64 KiB chunks, with chunked transfer
 * encoding, to the demo's `/login` over a plain socket; stops sending as
 * soon as any response arrives, and tracks the peak RSS of process `pid`
 * meanwhile. A socket, not an HTTP client: a server that closes the
 * connection on a refused body makes an HTTP client fail on its next write
 * and drop the response it was sent.
 */
function upload(url: string, pid: number, total: number): Promise<Upload> {
  return new Promise((resolve) => {
    const size = 64 * 1024;
    const chunk = Buffer.from(
      `${size.toString(16)}\r\n${"x".repeat(size)}\r\n`,
    );
    const result: Upload = { status: undefined, sent: 0, peakRss: 0 };
    const sample = () => {
      result.peakRss = Math.max(result.peakRss, rssBytes(pid));
    };
    const sampler = setInterval(sample, 20);
    let answer = "";
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(sampler);
      clearTimeout(deadline);
      sample();
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1];
      result.status = status === undefined ? undefined : Number(status);
      socket.destroy();
      resolve(result);
    };
    const deadline = setTimeout(finish, UPLOAD_MS);
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    socket.setEncoding("latin1");
    socket.on("data", (text: string) => {
      // Let the server settle with the body refused, then read once more.
      if (answer === "") setTimeout(finish, 500);
      answer += text;
    });
    socket.on("error", () => setTimeout(finish, 500));
    socket.on("close", () => setTimeout(finish, 500));
    socket.write(
      "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
        "Content-Type: application/x-www-form-urlencoded\r\n" +
        "Transfer-Encoding: chunked\r\n\r\n",
    );
    const write = () => {
      while (answer === "" && !finished) {
        if (result.sent >= total) return socket.write("0\r\n\r\n");
        result.sent += size;
        if (!socket.write(chunk)) return socket.once("drain", write);
      }
    };
    write();
  });
}

describe("the demo's body limit", () => {
  for (const runtime of Object.keys(RUNTIMES) as Runtime[]) {
    it(`${runtime}: a 200 MiB chunked login body gets 413 and the server's memory grows by less than 10 MB`, async () => {
      const demo = await startDemo(runtime, { SESSION_STORE: "memory" });
      try {
        // One small refused body first, so that the path is warm.
        const warm = await upload(demo.url, demo.pid, 8192);
        assert.equal(warm.status, 413);
        const before = rssBytes(demo.pid);
        const big = await upload(demo.url, demo.pid, BODY_BYTES);
        const growth = big.peakRss - before;
        console.log(
          `${runtime}: ${big.status} after ${
            (big.sent / MiB).toFixed(1)
          } MiB sent; ` +
            `RSS ${(before / MiB).toFixed(1)} MiB before, peak ` +
            `${(big.peakRss / MiB).toFixed(1)} MiB`,
        );
        assert.equal(big.status, 413);
        assert.ok(
          growth < 10_000_000,
          `the server grew by ${(growth / 1e6).toFixed(1)} MB`,
        );
        // Still serving, and a body within the limit still gets through to
        // the CSRF guard.
        const page = await fetch(demo.url, {
          signal: AbortSignal.timeout(30_000),
        });
        assert.equal(page.status, 200);
        await page.body?.cancel();
      } finally {
        await demo.stop();
      }
    });
  }
});
