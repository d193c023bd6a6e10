// What a cookie's value becomes on the wire: as it is, signed with
// HMAC-SHA256, or encrypted with AES-256-GCM. All the crypto state lives
// here: the keys derived from the secrets, the scratch buffers, the nonce
// pool and the per-runtime choice of HMAC. Not part of the public API.

import {
  allocBytes,
  decodeBase64url,
  decodeBase64urlAfter,
  encodeAllocated,
  encodeBase64url,
} from "./_base64url.ts";
import { describeValue } from "./_describe.ts";
import { byteString, createHmacSha256 } from "./_hmac_sha256.ts";

/**
 * How one cookie's values are protected, chosen once by
 * {@linkcode createCodec}. Both sides work on cookie-octets: `wrap` is given
 * a percent-encoded value and `unwrap` a cookie value as the client sent it.
 */
export interface CookieCodec {
  /** Whether `unwrap` returns only values this server wrapped. */
  readonly signed: boolean;
  /** Whether the client cannot read the value. */
  readonly encrypted: boolean;
  /**
   * The cookie value that carries `head + encoded`, where `head`, a few
   * ASCII characters (the chunk count), is kept apart from `encoded` so that
   * encryption can seal `encoded` as the bytes it decodes to from base64url.
   * A promise only where encryption has to go through Web Crypto.
   */
  wrap(encoded: string, head?: string): string | Promise<string>;
  /**
   * The `head + encoded` that `wrap` was given, or `null` when `raw` is not
   * authentic. A promise only where decryption has to go through Web Crypto.
   */
  unwrap(raw: string): string | null | Promise<string | null>;
}

const MIN_SECRET_BYTES = 32;
const SIGNATURE_CHARS = 43; // base64url of a 32-byte HMAC-SHA256, unpadded
const IV_BYTES = 12;
const TAG_BYTES = 16;
// What encryption seals is either the value as ASCII, or this byte, the
// length of the head in one byte, the head as ASCII, and the bytes the rest
// decodes to from base64url: three quarters of its length, which is what
// stores write (the cookie store's base64url JSON, ids). The ASCII form,
// all that releases before this one wrote, cannot start with this byte: a
// cookie value is percent-encoded into cookie-octets (0x21 and up) and a
// chunk count starts with a digit. It is authenticated with the rest.
const PACKED = 0x00;

/**
 * What this file uses of `node:crypto`, typed here so that no Node types
 * are needed.
 */
export interface NodeCrypto {
  createSecretKey(key: Uint8Array): object;
  createHmac(algorithm: "sha256", key: object): {
    update(message: string): {
      digest(): Uint8Array;
      digest(encoding: "base64url"): string;
    };
  };
  createCipheriv(
    algorithm: "aes-256-gcm",
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): {
    setAAD(aad: Uint8Array): unknown;
    update(data: string, inputEncoding: "latin1"): Uint8Array;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
    getAuthTag(): Uint8Array;
  };
  createDecipheriv(
    algorithm: "aes-256-gcm",
    key: Uint8Array,
    iv: Uint8Array,
    options: { authTagLength: number },
  ): {
    setAAD(aad: Uint8Array): unknown;
    setAuthTag(tag: Uint8Array): unknown;
    update(data: Uint8Array): Uint8Array;
    final(): Uint8Array;
  };
}

// Deno, Bun and Node offer `node:crypto` without a static import, which
// would fail to load where there is none (Cloudflare Workers without
// `nodejs_compat`). Where it exists, its synchronous HMAC and AES-GCM serve
// long messages and encryption; elsewhere the HMAC in JavaScript and Web
// Crypto do.
const nodeCrypto = (globalThis as {
  process?: { getBuiltinModule?(id: string): unknown };
}).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;

const PLAIN: CookieCodec = {
  signed: false,
  encrypted: false,
  wrap: (encoded, head) => head === undefined ? encoded : head + encoded,
  unwrap: (raw) => raw,
};

/**
 * The codec of the cookie named `name`: plain without `secrets`, else signed
 * or, with `encrypt`, encrypted under keys derived from each secret, here.
 * Throws an error that starts with `context` for unusable options. `node`
 * is `node:crypto` where the runtime offers it; without it (tests pass
 * `undefined`) the HMAC in JavaScript and Web Crypto do all the work.
 */
export function createCodec(
  context: string,
  name: string,
  secrets: string[] | undefined,
  encrypt: boolean,
  node: NodeCrypto | undefined = nodeCrypto,
): CookieCodec {
  const keys = deriveKeys(context, secrets, node);
  if (keys.length === 0) {
    if (encrypt) {
      throw new TypeError(
        `${context}: option "encrypt" needs option "secrets" to derive the ` +
          "encryption key from. Pass secrets: [a random string of 32 bytes " +
          "or more].",
      );
    }
    return PLAIN;
  }
  // The name is bound into every MAC and ciphertext, so a value cannot be
  // moved from one cookie to another.
  if (!encrypt) return signingCodec(keys, name + "=");
  const aad = new TextEncoder().encode(name);
  return node === undefined
    ? webEncryptingCodec(keys, aad)
    : nodeEncryptingCodec(node, keys, aad);
}

function signingCodec(keys: CookieKeys[], macPrefix: string): CookieCodec {
  return {
    signed: true,
    encrypted: false,
    wrap(encoded, head) {
      if (head !== undefined) encoded = head + encoded;
      return encoded + "." + keys[0].sign(macPrefix + encoded);
    },
    unwrap(raw) {
      const dot = raw.length - SIGNATURE_CHARS - 1;
      if (dot < 0 || raw.charCodeAt(dot) !== 0x2e) return null;
      // Decoding refuses a second spelling of the same signature.
      const signature = decodeBase64url(raw.slice(dot + 1), givenSignature);
      if (signature === null) return null;
      const encoded = raw.slice(0, dot);
      const message = macPrefix + encoded;
      for (const key of keys) {
        if (key.verify(message, signature)) return encoded;
      }
      return null;
    },
  };
}

function nodeEncryptingCodec(
  node: NodeCrypto,
  keys: CookieKeys[],
  aad: Uint8Array,
): CookieCodec {
  return {
    signed: true,
    encrypted: true,
    wrap(encoded, head = "") {
      const plain = packed(encoded, head);
      const length = plain === null
        ? head.length + encoded.length
        : plain.length;
      const out = allocBytes(IV_BYTES + length + TAG_BYTES);
      const iv = takeRandomBytes(out);
      const cipher = node.createCipheriv(
        "aes-256-gcm",
        keys[0].encryption,
        iv,
        {
          authTagLength: TAG_BYTES,
        },
      );
      cipher.setAAD(aad);
      const start = plain === null
        ? cipher.update(head + encoded, "latin1")
        : cipher.update(plain);
      out.set(start, IV_BYTES);
      out.set(cipher.final(), IV_BYTES + start.length);
      out.set(cipher.getAuthTag(), IV_BYTES + length);
      return encodeAllocated(out);
    },
    unwrap(raw) {
      const sealed = decodeBase64url(raw);
      if (sealed === null || sealed.length < IV_BYTES + TAG_BYTES) return null;
      const iv = sealed.subarray(0, IV_BYTES);
      const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      for (const key of keys) {
        try {
          const decipher = node.createDecipheriv(
            "aes-256-gcm",
            key.encryption,
            iv,
            { authTagLength: TAG_BYTES },
          );
          decipher.setAAD(aad);
          decipher.setAuthTag(tag);
          const plain = decipher.update(body);
          // Throws unless the tag matches. GCM gives every byte from
          // update, but nothing promises it.
          const rest = decipher.final();
          return unpacked(
            rest.length === 0 ? plain : concatBytes(plain, rest),
          );
        } catch {
          // Wrong key or tampered value: try the next secret.
        }
      }
      return null;
    },
  };
}

function webEncryptingCodec(
  keys: CookieKeys[],
  aad: Uint8Array<ArrayBuffer>,
): CookieCodec {
  // Imported on first use: createCookie is synchronous, importKey is not.
  let imported: Promise<CryptoKey[]> | undefined;
  const cryptoKeys = () =>
    imported ??= Promise.all(
      keys.map((key) =>
        crypto.subtle.importKey("raw", key.encryption, "AES-GCM", false, [
          "encrypt",
          "decrypt",
        ])
      ),
    );
  const algorithm = (iv: Uint8Array<ArrayBuffer>): AesGcmParams => ({
    name: "AES-GCM",
    iv,
    additionalData: aad,
    tagLength: TAG_BYTES * 8,
  });
  return {
    signed: true,
    encrypted: true,
    async wrap(encoded, head = "") {
      const [key] = await cryptoKeys();
      const iv = takeRandomBytes(new Uint8Array(IV_BYTES));
      const sealed = await crypto.subtle.encrypt(
        algorithm(iv),
        key,
        packed(encoded, head) ?? new TextEncoder().encode(head + encoded),
      );
      const out = new Uint8Array(IV_BYTES + sealed.byteLength);
      out.set(iv);
      out.set(new Uint8Array(sealed), IV_BYTES);
      return encodeBase64url(out);
    },
    async unwrap(raw) {
      const sealed = decodeBase64url(raw);
      if (sealed === null || sealed.length < IV_BYTES + TAG_BYTES) return null;
      const iv = sealed.subarray(0, IV_BYTES);
      const body = sealed.subarray(IV_BYTES);
      for (const key of await cryptoKeys()) {
        try {
          const plain = await crypto.subtle.decrypt(algorithm(iv), key, body);
          return unpacked(new Uint8Array(plain));
        } catch {
          // Wrong key or tampered value: try the next secret.
        }
      }
      return null;
    },
  };
}

/**
 * The {@linkcode PACKED} plaintext of `head + encoded`, or `null` when
 * `encoded` is not canonical base64url (decoding and encoding it again would
 * not give it back): then the value is sealed as ASCII.
 */
function packed(
  encoded: string,
  head: string,
): Uint8Array<ArrayBuffer> | null {
  const plain = decodeBase64urlAfter(encoded, 2 + head.length);
  if (plain === null) return null;
  plain[0] = PACKED;
  plain[1] = head.length;
  for (let i = 0; i < head.length; i++) plain[2 + i] = head.charCodeAt(i);
  return plain;
}

// Plaintexts are ASCII where they are text, so any byte decoding will do.
const asciiDecoder = new TextDecoder();

/** The `head + encoded` that `plain`, a decrypted plaintext, carries. */
function unpacked(plain: Uint8Array): string {
  if (plain[0] !== PACKED) return asciiDecoder.decode(plain);
  const start = 2 + plain[1];
  const encoded = encodeBase64url(plain.subarray(start));
  return start === 2
    ? encoded
    : asciiDecoder.decode(plain.subarray(2, start)) + encoded;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** HMAC-SHA256 under one secret's signing key, of ASCII messages. */
interface Signer {
  /** The signature of `message`, in base64url. */
  sign(message: string): string;
  /** Whether `signature` is that of `message`, compared in constant time. */
  verify(message: string, signature: Uint8Array): boolean;
}

interface CookieKeys extends Signer {
  encryption: Uint8Array<ArrayBuffer>;
}

// Messages up to this many bytes are signed by the HMAC in JavaScript, keyed
// once, which saves the key setup createHmac repeats on every call; longer
// ones by createHmac, whose native SHA-256 costs less per 64-byte block. On
// the machine of BENCHMARKS.md the two cost the same at about 1,000 to 1,500
// bytes in Deno, 300 to 500 in Node 20 and 26, and 60 to 100 in Bun, whose
// createHmac costs least per call. A cookie that carries a session id (a
// name of up to 22 characters, "=" and 32 characters: one block) takes the
// JavaScript path everywhere, and every message does without `node:crypto`.
const JS_HMAC_MAX_BYTES = "Deno" in globalThis
  ? 1000
  : "Bun" in globalThis
  ? 55
  : 400;

function createSigner(
  key: Uint8Array,
  node: NodeCrypto | undefined,
): Signer {
  const inJavaScript = createHmacSha256(key);
  const keyObject = node?.createSecretKey(key);
  const maxJsBytes = node === undefined ? Infinity : JS_HMAC_MAX_BYTES;
  return {
    sign(message) {
      if (message.length > maxJsBytes) {
        return node!.createHmac("sha256", keyObject!).update(message).digest(
          "base64url",
        );
      }
      inJavaScript(message, expectedSignature);
      return encodeAllocated(expectedSignature);
    },
    verify(message, signature) {
      let expected: Uint8Array = expectedSignature;
      if (message.length > maxJsBytes) {
        expected = node!.createHmac("sha256", keyObject!).update(message)
          .digest();
      } else {
        inJavaScript(message, expected);
      }
      return signaturesMatch(expected, signature);
    },
  };
}

function deriveKeys(
  context: string,
  secrets: string[] | undefined,
  node: NodeCrypto | undefined,
): CookieKeys[] {
  if (secrets === undefined) return [];
  if (!Array.isArray(secrets) || secrets.length === 0) {
    throw new TypeError(
      `${context}: option "secrets" must be a non-empty array of strings, ` +
        `got ${describeValue(secrets)}. Omit it for an unsigned cookie.`,
    );
  }
  const keys: CookieKeys[] = [];
  for (let index = 0; index < secrets.length; index++) {
    // A hole, from `[, secret]` or a deleted entry, reads as undefined.
    if (!(index in secrets)) {
      throw new TypeError(
        `${context}: option "secrets" has a hole at secrets[${index}]. ` +
          "List the secrets one after another, newest first.",
      );
    }
    const secret = secrets[index];
    if (typeof secret !== "string") {
      throw new TypeError(
        `${context}: option "secrets" must hold strings, but secrets[${index}] ` +
          `is ${describeValue(secret)}.`,
      );
    }
    const earlier = secrets.indexOf(secret);
    if (earlier !== index) {
      throw new TypeError(
        `${context}: option "secrets" holds the same secret twice, at ` +
          `secrets[${earlier}] and secrets[${index}]. Remove the second one.`,
      );
    }
    const bytes = new TextEncoder().encode(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RangeError(
        `${context}: secrets[${index}] is ${
          bytes.length === 0 ? "empty" : `${bytes.length} bytes long`
        }; each secret must be at least ${MIN_SECRET_BYTES} bytes. ` +
          "Generate one with `openssl rand -base64 32`.",
      );
    }
    keys.push({
      ...createSigner(hkdf(bytes, "signing"), node),
      encryption: hkdf(bytes, "encryption"),
    });
  }
  return keys;
}

// One call to the random generator per 341 nonces instead of one per
// cookie: each call costs about a quarter of an HMAC in Node, more in Bun.
const randomPool = new Uint8Array(IV_BYTES * 341);
let randomPoolOffset = randomPool.length;

/**
 * Copies fresh random bytes, never handed out before, into the start of
 * `target`, a nonce's worth, and returns them.
 */
function takeRandomBytes(
  target: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  if (randomPoolOffset + IV_BYTES > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomPoolOffset = 0;
  }
  for (let i = 0; i < IV_BYTES; i++) {
    target[i] = randomPool[randomPoolOffset + i];
  }
  randomPoolOffset += IV_BYTES;
  return target.subarray(0, IV_BYTES);
}

// Where signatures are computed; signing and verifying run synchronously,
// one at a time.
const expectedSignature = allocBytes(32);
const givenSignature = new Uint8Array(32);

/**
 * Whether two 32-byte signatures are equal, in time that depends neither on
 * where they differ nor on how many bytes do.
 * Written out because `node:crypto`'s `timingSafeEqual` costs about 1 µs
 * a call in Deno, a sixth of a whole signed cookie's parse.
 */
function signaturesMatch(expected: Uint8Array, given: Uint8Array): boolean {
  let difference = 0;
  for (let i = 0; i < 32; i++) {
    difference |= expected[i] ^ given[i];
  }
  return difference === 0;
}

/**
 * HKDF-SHA256 (RFC 5869) of `secret` with an empty salt, 32 bytes long:
 * extract, then one block of expand, both with the HMAC in JavaScript, so
 * that keys are derived synchronously everywhere.
 */
function hkdf(secret: Uint8Array, purpose: string): Uint8Array<ArrayBuffer> {
  const key = new Uint8Array(32);
  createHmacSha256(new Uint8Array(0))(byteString(secret), key);
  const out = new Uint8Array(32);
  createHmacSha256(key)(`@x/session cookie ${purpose} v1\x01`, out);
  key.fill(0);
  return out;
}
