// Per-request CPU of the Express adapter alone, with stand-ins for req and
// res: node bench/_express_adapter_cost.ts
import process from "node:process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { sessionMiddleware } from "../express.ts";
import { createCookie } from "../cookie.ts";
import { createMemorySessionStorage } from "../memory_storage.ts";
import type { Session } from "../session.ts";
import { SECRET, SESSION_DATA } from "./_fixtures.ts";

const cookie = createCookie("sid", { secrets: [SECRET], secure: true });
const storage = createMemorySessionStorage();
const middleware = sessionMiddleware({ cookie, storage });

function fakeRes(done: () => void) {
  const headers = new Map<string, unknown>();
  return {
    statusCode: 200,
    // As in Node's ServerResponse: the head counts as sent once it is set.
    _header: null as string | null,
    get headersSent() {
      return this._header !== null;
    },
    getHeader: (n: string) => headers.get(n.toLowerCase()),
    setHeader(n: string, v: unknown) {
      headers.set(n.toLowerCase(), v);
    },
    getHeaderNames: () => [...headers.keys()],
    removeHeader: (n: string) => headers.delete(n.toLowerCase()),
    writeHead() {},
    write: () => true,
    end() {
      this._header = "HTTP/1.1 200 OK\r\n\r\n";
      done();
    },
  };
}

async function one(header: string | undefined): Promise<string | undefined> {
  let res!: ReturnType<typeof fakeRes>;
  await new Promise<void>((resolve) => {
    res = fakeRes(resolve);
    const req = { headers: { cookie: header, host: "127.0.0.1:3000" } };
    middleware(req, res as never, () => {
      const session = (req as unknown as { session: Session }).session;
      if (!session.has("userId")) {
        for (const [k, v] of Object.entries(SESSION_DATA)) session.set(k, v);
      }
      session.set("count", Number(session.get("count") ?? 0) + 1);
      res.end();
    });
  });
  const set = res.getHeader("set-cookie") as string[] | undefined;
  return set?.[0]?.split(";")[0];
}

// express-session with the same stand-ins. Loaded without its types, as in
// bench/_peer_server.ts.
const expressSession = createRequire(import.meta.url)("express-session");
const es = expressSession({
  secret: SECRET,
  resave: false,
  saveUninitialized: false,
  cookie: { secure: false, httpOnly: true, maxAge: 86_400_000 },
});
async function esOne(header: string | undefined): Promise<string | undefined> {
  let res!: ReturnType<typeof fakeRes>;
  await new Promise<void>((resolve) => {
    res = fakeRes(resolve);
    // deno-lint-ignore no-explicit-any
    const req: any = {
      headers: { cookie: header, host: "127.0.0.1:3000" },
      url: "/",
      originalUrl: "/",
      connection: {},
      socket: {},
    };
    // express-session's on-headers wraps writeHead: end must call it.
    const end = res.end;
    res.end = function () {
      this.writeHead();
      end.call(this);
    };
    (res as unknown as Record<string, unknown>)._implicitHeader = () =>
      res.writeHead();
    es(req, res, () => {
      const data = req.session;
      if (data.userId === undefined) Object.assign(data, SESSION_DATA);
      data.count = Number(data.count ?? 0) + 1;
      res.end();
    });
  });
  const set = res.getHeader("set-cookie") as string[] | string | undefined;
  return [set].flat()[0]?.split(";")[0];
}
const header = await one(undefined);
const esHeader = await esOne(undefined);
if (!header || !esHeader) throw new Error("bench: no session cookie was set");
const cases: Record<string, () => Promise<unknown>> = {
  "@x/session/express, memory store": () => one(header),
  "express-session 1.19 (MemoryStore)": () => esOne(esHeader),
};
const samples: Record<string, number[]> = {};
for (let round = 0; round < 8; round++) {
  for (const [name, run] of Object.entries(cases)) {
    const n = 20_000;
    const started = process.cpuUsage();
    for (let i = 0; i < n; i++) await run();
    const used = process.cpuUsage(started);
    // The first round warms up.
    if (round > 0) (samples[name] ??= []).push((used.user + used.system) / n);
  }
}
const results = Object.entries(samples).map(([name, values]) => ({
  name,
  cpuUsPerRequest: values.toSorted((a, b) => a - b)[values.length >> 1],
}));
for (const { name, cpuUsPerRequest } of results) {
  console.log(`${name.padEnd(36)} ${cpuUsPerRequest.toFixed(2)} µs CPU`);
}
const jsonAt = process.argv.indexOf("--json");
if (jsonAt !== -1) {
  writeFileSync(process.argv[jsonAt + 1], JSON.stringify(results, null, 2));
}
