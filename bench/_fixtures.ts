// What every benchmark works on: one realistic session cookie, the request
// header that carries it among other cookies, and the secrets. Shared by the
// Deno, Bun and Node runners so that every runtime measures the same bytes.

/** The name of the session cookie. */
export const COOKIE_NAME = "sid";

/** A signing secret of 32 bytes or more, as a real deployment would use. */
export const SECRET = "bench-secret-7f3c9a1e5b2d8f4a6c0e2b9d7f1a3c5e";

/** iron-session wants a password of at least 32 characters. */
export const PASSWORD = "bench-password-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";

/** Seconds the cookie lives: the `Max-Age` attribute. */
export const MAX_AGE = 86_400;

/** The attributes every library is asked for, in `Set-Cookie` form. */
export const ATTRIBUTES =
  `Max-Age=${MAX_AGE}; Path=/; HttpOnly; Secure; SameSite=Lax`;

/** A logged-in user's session, as plain data. */
export const SESSION_DATA = {
  userId: "u_8f3a2c91",
  name: "Ada Lovelace",
  role: "editor",
  theme: "dark",
  cart: [3, 17, 42],
  csrf: "b1c4e7a0d93f",
};

/** The session with a visit counter, as the server-side stores write it. */
export const STORED_RECORD = JSON.stringify({
  d: [{ ...SESSION_DATA, count: 0 }, {}],
  e: null,
  c: Date.now(),
  w: Date.now(),
});

/**
 * The record a visit counter's request writes back: its count one higher
 * and a new write time. The SQL floors write this rather than the bytes they
 * read: a database commits a row whose bytes did not change far cheaper
 * (SQLite: about 10 µs for a SELECT and an upsert of the same bytes, 22 µs
 * with changed ones), and a store never gets to write what it read.
 */
export function countedRecord(text: string): string {
  const record = JSON.parse(text);
  record.d[0].count++;
  record.w = Date.now();
  return JSON.stringify(record);
}

/** The session as the ~150-byte JSON string a cookie carries. */
export const SESSION_VALUE = JSON.stringify(SESSION_DATA);

/** Five cookies a browser sends along with the session cookie. */
const OTHER_COOKIES = [
  "_ga=GA1.2.1234567890.1700000000",
  "theme=dark",
  "lang=en-US",
  "consent=analytics%3Dtrue%26ads%3Dfalse",
  "csrftoken=Q2xB9dKf83LmZp0aR7sT1uVw",
];

/**
 * The `Cookie` header of a request: the session cookie, given as the
 * `name=value` pair a library wrote, in the middle of five other cookies.
 */
export function cookieHeader(sessionPair: string): string {
  return [
    ...OTHER_COOKIES.slice(0, 3),
    sessionPair,
    ...OTHER_COOKIES.slice(3),
  ].join("; ");
}

/** The `name=value` part of a `Set-Cookie` header. */
export function pairOf(setCookie: string): string {
  const end = setCookie.indexOf(";");
  return end === -1 ? setCookie : setCookie.slice(0, end);
}
