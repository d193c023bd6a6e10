// A value too long for one cookie, spread over the cookies `name`,
// `name.1`, `name.2`, ...: sealed once as a whole, then cut. Not part of the
// public API.
//
// The head cookie `name` holds `<count>~` and the first piece; `name.i` the
// (i+1)-th. The pieces are the sealed text cut into `count` parts of equal
// length (the first ones one character longer when it does not divide), so
// one sealed text has exactly one chunk set. What is sealed is `<count>~`
// and the percent-encoded value, under a key bound to `name` and to
// chunking (a name no single cookie can have), so a piece moved, dropped,
// repeated, reordered or taken from another set, a changed count, and a
// single cookie presented as a set (or a set as a single cookie) all fail
// the one MAC or AEAD check.

import { type CookieCodec, createCodec } from "./_cookie_codec.ts";
import { COOKIE_OCTETS, cookieValueAt, findCookie } from "./_cookie_header.ts";
import { describeValue } from "./_describe.ts";

/** Browsers drop a cookie whose `Set-Cookie` line is longer than this. */
export const MAX_HEADER_BYTES = 4096;
/** What `chunked: true` allows: see the README on the limits behind it. */
const DEFAULT_MAX_BYTES = 10 * 1024;
// The head's `<count>~`; a count of three digits is never written.
const HEAD = /^([1-9][0-9]?)~/;
const MOST_CHUNKS = 99;

/** Writes and reads the chunk sets of one cookie. */
export interface Chunking {
  /** The most bytes a set adds to a request's `Cookie` header. */
  readonly maxBytes: number;
  /**
   * The `Set-Cookie` headers of the set that carries `encoded`, each ending
   * in `attributes`; throws a `RangeError` when the set would need more
   * than `maxBytes`.
   */
  write(encoded: string, attributes: string): Promise<string[]>;
  /**
   * A reader of the sets in `cookieHeader`: given what a head cookie
   * holds, the percent-encoded value of its set, the other chunks taken
   * from `cookieHeader`; `null` when the set is incomplete, inconsistent or
   * not authentic. Each chunk name is looked up in the header once, however
   * many heads are read, so that a header full of heads costs work in
   * proportion to its length.
   */
  reader(cookieHeader: string): (head: string) => Promise<string | null>;
  /**
   * The names of the chunk cookies, from `name.<from>` on, that
   * `cookieHeader` carries.
   */
  carried(cookieHeader: string | null, from: number): string[];
}

/**
 * The chunking of the cookie named `name`, or `undefined` when `option`
 * (the cookie's `chunked` option) leaves it off. Throws an error that starts
 * with `context` for an unusable option.
 */
export function createChunking(
  context: string,
  name: string,
  option: unknown,
  secrets: string[] | undefined,
  encrypt: boolean,
): Chunking | undefined {
  if (option === undefined || option === false) return undefined;
  let maxBytes = DEFAULT_MAX_BYTES;
  if (option !== true) {
    const given = typeof option === "object" && option !== null
      ? (option as { maxBytes?: unknown }).maxBytes
      : option;
    if (
      typeof option !== "object" || option === null ||
      (given !== undefined &&
        !(Number.isSafeInteger(given) && (given as number) >= MAX_HEADER_BYTES))
    ) {
      throw new RangeError(
        `${context}: option "chunked" must be true, false or ` +
          `{ maxBytes: a whole number of at least ${MAX_HEADER_BYTES} }, got ` +
          `${describeValue(given)}. Try chunked: true, which allows ` +
          `${DEFAULT_MAX_BYTES} bytes.`,
      );
    }
    if (given !== undefined) maxBytes = given as number;
  }
  if (secrets === undefined) {
    throw new TypeError(
      `${context}: option "chunked" needs option "secrets": without them ` +
        "nothing ties the chunks of a value together. Pass secrets: [a " +
        "random string of 32 bytes or more].",
    );
  }
  // A space cannot occur in a cookie name, so no single cookie shares this
  // key binding.
  const codec = createCodec(context, `${name} chunks`, secrets, encrypt);
  // Every piece written is longer than 1 KiB unless the attributes take
  // most of the 4096 bytes; the reader gives up beyond this many.
  const maxChunks = Math.max(
    2,
    Math.min(MOST_CHUNKS, Math.floor(maxBytes / 1024)),
  );
  return {
    maxBytes,
    write: (encoded, attributes) =>
      write(name, codec, maxBytes, maxChunks, encoded, attributes),
    reader(cookieHeader) {
      const pieces = pieceFinder(cookieHeader, name);
      return (head) => read(codec, maxChunks, pieces, head);
    },
    carried(cookieHeader, from) {
      const names: string[] = [];
      if (cookieHeader === null) return names;
      // Past maxChunks, on while the chunks go on: a set written before
      // maxBytes was lowered may have more, which must not stay behind.
      for (let index = Math.max(from, 1); index < MOST_CHUNKS; index++) {
        const chunkName = `${name}.${index}`;
        if (findCookie(cookieHeader, chunkName, 0) !== -1) {
          names.push(chunkName);
        } else if (index >= maxChunks) {
          break;
        }
      }
      return names;
    },
  };
}

async function write(
  name: string,
  codec: CookieCodec,
  maxBytes: number,
  maxChunks: number,
  encoded: string,
  attributes: string,
): Promise<string[]> {
  // A first guess from below, so that most values are sealed once: sealing
  // adds at least the `<count>~`. Encryption writes the base64url of the
  // bytes a base64url value decodes to, which is no shorter; of another
  // value, a third more, and the loop below seals it a second time. A value
  // too large is sealed too, so that the error tells its size.
  let count = Math.max(
    2,
    Math.ceil(
      (encoded.length + 2) /
        (MAX_HEADER_BYTES - name.length - 3 - attributes.length),
    ),
  );
  let sealed: string;
  for (;;) {
    sealed = await codec.wrap(encoded, `${count}~`);
    // The head's `=<count>~` and a chunk's `.<index>=` are the same length.
    const room = MAX_HEADER_BYTES - name.length - 2 - String(count).length -
      attributes.length;
    const needed = room < 1 ? Infinity : Math.ceil(sealed.length / room);
    if (needed <= count) break;
    // More pieces lengthen `<count>~`, and so the sealed text: try again.
    count = needed;
  }
  if (count > maxChunks) {
    throw tooLarge(name, sealed.length, maxBytes, attributes);
  }
  const pieces = cut(sealed, count);
  // Each pair in the Cookie header, with its "; " separator.
  let bytes = String(count).length + 1 - 2;
  for (let index = 0; index < count; index++) {
    bytes += chunkName(name, index).length + 3 + pieces[index].length;
  }
  if (bytes > maxBytes) throw tooLarge(name, bytes, maxBytes, attributes);
  const headers = [`${name}=${count}~${pieces[0]}${attributes}`];
  for (let index = 1; index < count; index++) {
    headers.push(`${name}.${index}=${pieces[index]}${attributes}`);
  }
  return headers;
}

async function read(
  codec: CookieCodec,
  maxChunks: number,
  findPiece: PieceFinder,
  head: string,
): Promise<string | null> {
  const match = HEAD.exec(head);
  if (match === null) return null;
  const count = Number(match[1]);
  if (count < 2 || count > maxChunks) return null;
  const first = head.slice(match[0].length);
  const pieces = [first];
  for (let index = 1; index < count; index++) {
    const piece = findPiece(index, first.length);
    if (piece === null) return null;
    pieces.push(piece);
  }
  const sealed = pieces.join("");
  const expected = cut(sealed, count);
  for (let index = 0; index < count; index++) {
    if (pieces[index].length !== expected[index].length) return null;
  }
  const inner = await codec.unwrap(sealed);
  if (inner === null || !inner.startsWith(match[0])) return null;
  return inner.slice(match[0].length);
}

/**
 * The first cookie named `name.<index>` whose value could be a piece of a
 * set whose first piece is `length` long: a cookie planted under the name
 * by another site (cookie tossing) with another length does not hide it.
 */
type PieceFinder = (index: number, length: number) => string | null;

/**
 * The {@linkcode PieceFinder} of `cookieHeader`, which scans the header for
 * a chunk name the first time it is asked for it, and remembers the first
 * usable value of each length and where it was.
 */
function pieceFinder(cookieHeader: string, name: string): PieceFinder {
  const found = new Map<number, Map<number, [start: number, value: string]>>();
  return (index, length) => {
    let byLength = found.get(index);
    if (byLength === undefined) {
      byLength = new Map();
      const chunkName = `${name}.${index}`;
      let start = findCookie(cookieHeader, chunkName, 0);
      while (start !== -1) {
        const value = cookieValueAt(cookieHeader, start);
        if (!byLength.has(value.length) && COOKIE_OCTETS.test(value)) {
          byLength.set(value.length, [start, value]);
        }
        start = findCookie(cookieHeader, chunkName, start);
      }
      found.set(index, byLength);
    }
    const long = byLength.get(length);
    const short = byLength.get(length - 1);
    if (long === undefined) return short?.[1] ?? null;
    return short === undefined || long[0] < short[0] ? long[1] : short[1];
  };
}

function tooLarge(
  name: string,
  bytes: number,
  maxBytes: number,
  attributes: string,
): RangeError {
  if (attributes.length > MAX_HEADER_BYTES - 1024) {
    return new RangeError(
      `Cookie ${JSON.stringify(name)}: its attributes take ` +
        `${attributes.length} of the ${MAX_HEADER_BYTES} bytes a cookie may ` +
        'have, which leaves too little room for chunks (option "chunked"). ' +
        "Shorten the path or the domain.",
    );
  }
  return new RangeError(
    `Cookie ${JSON.stringify(name)}: the value would take about ${bytes} ` +
      `bytes of cookies, over the ${maxBytes} bytes of option "chunked" ` +
      "(maxBytes). Store less in the cookie, raise maxBytes if every server " +
      "and proxy in front of yours accepts the larger Cookie header, or keep " +
      "the data in a server-side store (Redis, SQLite, PostgreSQL, Deno KV, " +
      "or one of your own through createRecordSessionStorage) so the " +
      "cookie holds only an id.",
  );
}

/** `text` cut into `count` pieces, the first ones one longer. */
function cut(text: string, count: number): string[] {
  const short = Math.floor(text.length / count);
  const long = text.length % count;
  const pieces: string[] = [];
  let at = 0;
  for (let index = 0; index < count; index++) {
    const length = index < long ? short + 1 : short;
    pieces.push(text.slice(at, at + length));
    at += length;
  }
  return pieces;
}

function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`;
}
