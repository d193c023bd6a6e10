// Runs one store's round trip in a loop, for a CPU profile:
import process from "node:process";
// node --cpu-prof bench/_profile_store.ts memory|cookie [calls]
import { createMemorySessionStorage } from "../memory_storage.ts";
import { createCookieSessionStorage } from "../cookie_storage.ts";
import { firstSession, roundTrip } from "./_stores.ts";

const kind = process.argv[2];
const calls = Number(process.argv[3] ?? 300_000);
const store = kind === "cookie"
  ? createCookieSessionStorage()
  : createMemorySessionStorage();
let cookie = await firstSession(store);
const started = performance.now();
for (let i = 0; i < calls; i++) cookie = await roundTrip(store, cookie);
console.log(
  `${kind}: ${
    ((performance.now() - started) * 1000 / calls).toFixed(2)
  } µs per round trip`,
);
