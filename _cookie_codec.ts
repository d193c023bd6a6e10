// What a cookie's value becomes on the wire: as it is, signed with
// HMAC-SHA256, or encrypted with AES-256-GCM. All the crypto state lives
// here: the keys derived from the secrets, the scratch buffers, the nonce
// pool and the per-runtime choice of HMAC. Not part of the public API.

import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  randomFillSync,
} from "node:crypto";
import { describeValue } from "./_describe.ts";
import { createHmacSha256 } from "./_hmac_sha256.ts";

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
  /** The cookie value that carries `encoded`. */
  wrap(encoded: string): string;
  /** The value `wrap` was given, or `null` when `raw` is not authentic. */
  unwrap(raw: string): string | null;
}

const MIN_SECRET_BYTES = 32;
const SIGNATURE_CHARS = 43; // base64url of a 32-byte HMAC-SHA256, unpadded
const IV_BYTES = 12;
const TAG_BYTES = 16;

const PLAIN: CookieCodec = {
  signed: false,
  encrypted: false,
  wrap: (encoded) => encoded,
  unwrap: (raw) => raw,
};

/**
 * The codec of the cookie named `name`: plain without `secrets`, else signed
 * or, with `encrypt`, encrypted under keys derived from each secret, here.
 * Throws an error that starts with `context` for unusable options.
 */
export function createCodec(
  context: string,
  name: string,
  secrets: string[] | undefined,
  encrypt: boolean,
): CookieCodec {
  const keys = deriveKeys(context, secrets);
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
  return encrypt ? encryptingCodec(keys, name) : signingCodec(keys, name + "=");
}

function signingCodec(keys: CookieKeys[], macPrefix: string): CookieCodec {
  return {
    signed: true,
    encrypted: false,
    wrap(encoded) {
      return encoded + "." + keys[0].sign(macPrefix + encoded);
    },
    unwrap(raw) {
      const dot = raw.length - SIGNATURE_CHARS - 1;
      if (dot < 0 || raw.charCodeAt(dot) !== 0x2e) return null;
      const signature = raw.slice(dot + 1);
      if (!CANONICAL_SIGNATURE.test(signature)) return null;
      givenSignature.write(signature, "base64url");
      const encoded = raw.slice(0, dot);
      const message = macPrefix + encoded;
      for (const key of keys) {
        if (key.verify(message, givenSignature)) return encoded;
      }
      return null;
    },
  };
}

function encryptingCodec(keys: CookieKeys[], name: string): CookieCodec {
  const aad = Buffer.from(name);
  return {
    signed: true,
    encrypted: true,
    wrap(encoded) {
      const plain = Buffer.from(encoded, "latin1");
      const out = Buffer.allocUnsafe(IV_BYTES + plain.length + TAG_BYTES);
      takeRandomBytes(out, IV_BYTES);
      const cipher = createCipheriv(
        "aes-256-gcm",
        keys[0].encryption,
        out.subarray(0, IV_BYTES),
        { authTagLength: TAG_BYTES },
      );
      cipher.setAAD(aad);
      const head = cipher.update(plain);
      const tail = cipher.final();
      head.copy(out, IV_BYTES);
      tail.copy(out, IV_BYTES + head.length);
      cipher.getAuthTag().copy(out, IV_BYTES + plain.length);
      return out.toString("base64url");
    },
    unwrap(raw) {
      const sealed = Buffer.from(raw, "base64url");
      // base64url decoding ignores stray bits and characters; refuse any
      // string that is not the one encoding of its bytes.
      if (
        sealed.length < IV_BYTES + TAG_BYTES ||
        sealed.toString("base64url") !== raw
      ) {
        return null;
      }
      const iv = sealed.subarray(0, IV_BYTES);
      const body = sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES);
      const tag = sealed.subarray(sealed.length - TAG_BYTES);
      for (const key of keys) {
        try {
          const decipher = createDecipheriv(
            "aes-256-gcm",
            key.encryption,
            iv,
            { authTagLength: TAG_BYTES },
          );
          decipher.setAAD(aad);
          decipher.setAuthTag(tag);
          const head = decipher.update(body);
          const tail = decipher.final();
          return head.toString("latin1") + tail.toString("latin1");
        } catch {
          // Wrong key or tampered value: try the next secret.
        }
      }
      return null;
    },
  };
}

/** HMAC-SHA256 under one secret's signing key, of ASCII messages. */
interface Signer {
  /** The signature of `message`, in base64url. */
  sign(message: string): string;
  /** Whether `signature` is that of `message`, compared in constant time. */
  verify(message: string, signature: Buffer): boolean;
}

interface CookieKeys extends Signer {
  encryption: Buffer;
}

// Messages up to this many bytes are signed by the HMAC in JavaScript, keyed
// once, which saves the key setup createHmac repeats on every call; longer
// ones by createHmac, whose native SHA-256 costs less per 64-byte block. On
// the machine of BENCHMARKS.md the two cost the same at about 1,000 to 1,500
// bytes in Deno, 300 to 500 in Node 20 and 26, and 60 to 100 in Bun, whose
// createHmac costs least per call. A cookie that carries a session id (a
// name of up to 22 characters, "=" and 32 characters: one block) takes the
// JavaScript path everywhere.
const JS_HMAC_MAX_BYTES = "Deno" in globalThis
  ? 1000
  : "Bun" in globalThis
  ? 55
  : 400;

function createSigner(key: Buffer): Signer {
  const inJavaScript = createHmacSha256(key);
  const keyObject = createSecretKey(key);
  return {
    sign(message) {
      if (message.length > JS_HMAC_MAX_BYTES) {
        return createHmac("sha256", keyObject).update(message).digest(
          "base64url",
        );
      }
      inJavaScript(message, expectedSignature);
      return expectedSignature.toString("base64url");
    },
    verify(message, signature) {
      let expected = expectedSignature;
      if (message.length > JS_HMAC_MAX_BYTES) {
        expected = createHmac("sha256", keyObject).update(message).digest();
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
    const bytes = Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new RangeError(
        `${context}: secrets[${index}] is ${
          bytes.length === 0 ? "empty" : `${bytes.length} bytes long`
        }; each secret must be at least ${MIN_SECRET_BYTES} bytes. ` +
          "Generate one with `openssl rand -base64 32`.",
      );
    }
    keys.push({
      ...createSigner(hkdf(bytes, "signing")),
      encryption: hkdf(bytes, "encryption"),
    });
  }
  return keys;
}

// One call to the random generator per 341 nonces instead of one per
// cookie: each call costs about a quarter of an HMAC in Node, more in Bun.
const randomPool = Buffer.alloc(IV_BYTES * 341);
let randomPoolOffset = randomPool.length;

/** Copies fresh random bytes, never handed out before, into `target`. */
function takeRandomBytes(target: Buffer, count: number): void {
  if (randomPoolOffset + count > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  randomPool.copy(target, 0, randomPoolOffset, randomPoolOffset + count);
  randomPoolOffset += count;
}

// Where signatures are computed and decoded; signing and verifying run
// synchronously, one at a time.
const signatureScratch = Buffer.alloc(2 * 32);
const givenSignature = signatureScratch.subarray(0, 32);
const expectedSignature = signatureScratch.subarray(32);

/**
 * Whether two 32-byte signatures are equal, in time that depends neither on
 * where they differ nor on how many bytes do.
 * Written out because `node:crypto`'s `timingSafeEqual` costs about 1 µs
 * a call in Deno, a sixth of a whole signed cookie's parse.
 */
function signaturesMatch(expected: Buffer, given: Buffer): boolean {
  let difference = 0;
  for (let i = 0; i < 32; i++) {
    difference |= expected[i] ^ given[i];
  }
  return difference === 0;
}

// The last of 43 base64url characters carries 4 bits of the 32 bytes; the
// other 2 must be zero, or two spellings would decode to one signature.
const CANONICAL_SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

function hkdf(secret: Buffer, purpose: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", secret, "", `@x/session cookie ${purpose} v1`, 32),
  );
}
