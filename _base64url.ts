// base64url (RFC 4648 section 5) without padding, in plain JavaScript: the
// modules that must run without Node's `Buffer` (Cloudflare Workers without
// `nodejs_compat`) encode ids, signatures and cookie values with it. Not
// part of the public API.

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
// The two characters of each 12-bit value: half a 3-byte group.
const PAIRS = Array.from(
  { length: 4096 },
  (_, value) => ALPHABET[value >> 6] + ALPHABET[value & 63],
);
// The 6-bit value of each character code below 128, -1 for the others.
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

interface BufferClass {
  allocUnsafe(size: number): Uint8Array<ArrayBuffer>;
  from(text: string, encoding: "base64url" | "utf8"): Uint8Array<ArrayBuffer>;
}

interface NodeBuffer extends Uint8Array<ArrayBuffer> {
  toString(encoding?: "base64url", start?: number): string;
  write(text: string, offset: number, encoding: "base64url"): number;
}

// Node's Buffer where the runtime offers it without a static import (Deno,
// Bun, Node): its own encoder is the fastest on each, for the bytes
// allocBytes gives. Else `Uint8Array.prototype.toBase64` where it exists
// (Deno, Bun, Node 26 here), else the loop below (Node 20).
const NodeBuffer = ((globalThis as {
  process?: { getBuiltinModule?(id: string): unknown };
}).process?.getBuiltinModule?.("node:buffer") as
  | { Buffer: BufferClass }
  | undefined)?.Buffer;
const toBase64 = (Uint8Array.prototype as {
  toBase64?: (options: { alphabet: "base64url"; omitPadding: true }) => string;
}).toBase64;
const NATIVE_OPTIONS = { alphabet: "base64url", omitPadding: true } as const;

/**
 * `length` bytes, not zeroed, for a caller that writes every one: a Buffer
 * where there is one, which {@linkcode encodeAllocated} encodes fastest.
 */
export const allocBytes: (length: number) => Uint8Array<ArrayBuffer> =
  NodeBuffer === undefined
    ? (length) => new Uint8Array(length)
    : (length) => NodeBuffer.allocUnsafe(length);

/** The unpadded base64url text of `bytes`. */
export const encodeBase64url: (bytes: Uint8Array) => string =
  toBase64 === undefined
    ? encodeInJavaScript
    : (bytes) => toBase64.call(bytes, NATIVE_OPTIONS);

/**
 * {@linkcode encodeBase64url} for bytes {@linkcode allocBytes} gave: with a
 * Buffer's own encoder where they are one.
 */
export const encodeAllocated: (bytes: Uint8Array) => string =
  NodeBuffer === undefined
    ? encodeBase64url
    : (bytes) => (bytes as NodeBuffer).toString("base64url");

const utf8 = new TextEncoder();

/**
 * The unpadded base64url text of the UTF-8 bytes of `text` (a lone
 * surrogate as U+FFFD, as TextEncoder writes it): through Buffer where there
 * is one, 2 to 3 times faster than TextEncoder and `toBase64` on Deno and
 * Node.
 */
export const encodeUtf8Base64url: (text: string) => string =
  NodeBuffer === undefined
    ? (text) => encodeBase64url(utf8.encode(text))
    : (text) =>
      (NodeBuffer.from(text, "utf8") as NodeBuffer).toString("base64url");

function encodeInJavaScript(bytes: Uint8Array): string {
  const length = bytes.length;
  const whole = length - (length % 3);
  let out = "";
  for (let i = 0; i < whole; i += 3) {
    const triple = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += PAIRS[triple >> 12] + PAIRS[triple & 4095];
  }
  if (length - whole === 1) {
    out += PAIRS[bytes[whole] << 4];
  } else if (length - whole === 2) {
    const pair = (bytes[whole] << 8) | bytes[whole + 1];
    out += PAIRS[pair >> 4] + ALPHABET[(pair & 15) << 2];
  }
  return out;
}

/**
 * The bytes `text` encodes, or `null` unless `text` is exactly what
 * {@linkcode encodeBase64url} writes for them: no padding, no character
 * outside the alphabet, no stray bits in the last character. So no two
 * texts decode to the same bytes. Decoded by Buffer where there is one,
 * else in JavaScript; written into `into` when it has the right length,
 * which spares an allocation (the JavaScript loop is the faster for a
 * signature's 43 characters, Buffer for longer texts).
 */
export function decodeBase64url(
  text: string,
  into?: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> | null {
  const size = decodedLength(text);
  if (size < 0) return null;
  if (NodeBuffer !== undefined && into === undefined) {
    // Buffer's native decoder skips characters outside the alphabet and
    // ignores stray bits: refuse any text it would not write back.
    const bytes = NodeBuffer.from(text, "base64url");
    return (bytes as NodeBuffer).toString("base64url") === text ? bytes : null;
  }
  const bytes = into?.length === size ? into : new Uint8Array(size);
  const length = text.length;
  const tail = length % 4;
  const whole = length - tail;
  let seen = 0;
  let at = 0;
  for (let i = 0; i < whole; i += 4) {
    const a = valueOf(text, i);
    const b = valueOf(text, i + 1);
    const c = valueOf(text, i + 2);
    const d = valueOf(text, i + 3);
    seen |= a | b | c | d;
    const quad = (a << 18) | (b << 12) | (c << 6) | d;
    bytes[at++] = quad >> 16;
    bytes[at++] = quad >> 8;
    bytes[at++] = quad;
  }
  if (tail !== 0) {
    const a = valueOf(text, whole);
    const b = valueOf(text, whole + 1);
    const c = tail === 3 ? valueOf(text, whole + 2) : 0;
    seen |= a | b | c;
    // Bits past the last whole byte must be zero.
    if (tail === 2 ? (b & 15) !== 0 : (c & 3) !== 0) return null;
    bytes[at++] = (a << 2) | (b >> 4);
    if (tail === 3) bytes[at] = (b << 4) | (c >> 2);
  }
  return seen < 0 ? null : bytes;
}

/**
 * {@linkcode decodeBase64url} into bytes from {@linkcode allocBytes} whose
 * first `room` bytes are left for the caller to fill: one allocation, and
 * no copy, where decoding and then copying would take two.
 */
export function decodeBase64urlAfter(
  text: string,
  room: number,
): Uint8Array<ArrayBuffer> | null {
  const size = decodedLength(text);
  // Encryption asks this of every value, and many are no base64url: Deno's
  // Buffer takes 11 µs to write a 200-character one, this test 15 ns.
  if (size < 0 || !BASE64URL_TEXT.test(text)) return null;
  const bytes = allocBytes(room + size);
  if (NodeBuffer === undefined) {
    return decodeBase64url(text, bytes.subarray(room)) === null ? null : bytes;
  }
  // As in decodeBase64url: refuse any text Buffer would not write back.
  (bytes as NodeBuffer).write(text, room, "base64url");
  return (bytes as NodeBuffer).toString("base64url", room) === text
    ? bytes
    : null;
}

const BASE64URL_TEXT = /^[\w-]*$/;

/** How many bytes `text` decodes to, or -1 for a length base64url lacks. */
function decodedLength(text: string): number {
  const tail = text.length % 4;
  if (tail === 1) return -1;
  return (text.length >> 2) * 3 + (tail === 0 ? 0 : tail - 1);
}

function valueOf(text: string, at: number): number {
  const code = text.charCodeAt(at);
  return code < 128 ? VALUES[code] : -1;
}
