// The counter flow of the README, runnable as it is: three requests, each
// reading the session from the previous response's cookie.
//
// Run: deno run -A examples/counter.ts (or bun / node 26 on this file)

import { createCookieSessionStorage } from "../cookie_storage.ts";

const storage = createCookieSessionStorage();

async function handleRequest(cookie: string | null) {
  const session = await storage.read(cookie);
  session.set("count", Number(session.get("count") ?? 0) + 1);
  return { session, cookie: await storage.save(session) };
}

let cookie: string | null = null;
for (let request = 1; request <= 3; request++) {
  const response = await handleRequest(cookie);
  console.log(`request ${request}: count = ${response.session.get("count")}`);
  cookie = response.cookie;
}
