// API key format: pcsk_<keyId>_<secret><checksum>
//   keyId     12 base62 chars: public, the lookup key in the catalog and caches
//   secret    43 base62 chars: 256 bits of randomness, never stored (only its HMAC)
//   checksum  6 base62 chars: CRC-32 of everything before it, so typos and foreign strings are refused
//             without any lookup, and secret scanners can recognise a leaked Conifer key.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { encodeUint32Base62, randomBase62 } from './base62.js';

export const API_KEY_PREFIX = 'pcsk';
const KEY_ID_LENGTH = 12;
const SECRET_LENGTH = 43;
const CHECKSUM_LENGTH = 6;
const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}_([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${SECRET_LENGTH}})([0-9A-Za-z]{${CHECKSUM_LENGTH}})$`,
);
/** Longest string that could be a key: anything longer is refused before the regex runs. */
export const API_KEY_LENGTH = API_KEY_PREFIX.length + 2 + KEY_ID_LENGTH + SECRET_LENGTH + CHECKSUM_LENGTH;

export interface ParsedApiKey {
  readonly keyId: string;
  readonly secret: string;
}

export interface MintedApiKey extends ParsedApiKey {
  /** The full key, shown to its owner exactly once. */
  readonly value: string;
  readonly lastFour: string;
}

function checksum(body: string): string {
  return encodeUint32Base62(crc32(body));
}

export function mintApiKey(): MintedApiKey {
  const keyId = randomBase62(KEY_ID_LENGTH);
  const secret = randomBase62(SECRET_LENGTH);
  const body = `${API_KEY_PREFIX}_${keyId}_${secret}`;
  const value = body + checksum(body);
  return { keyId, secret, value, lastFour: value.slice(-4) };
}

/** Pure format and checksum check: no I/O. Returns null for anything that is not a well-formed Conifer key. */
export function parseApiKey(value: string | undefined | null): ParsedApiKey | null {
  if (typeof value !== 'string' || value.length !== API_KEY_LENGTH) return null;
  const match = API_KEY_PATTERN.exec(value);
  if (!match) return null;
  const [, keyId, secret, sum] = match as unknown as [string, string, string, string];
  if (checksum(`${API_KEY_PREFIX}_${keyId}_${secret}`) !== sum) return null;
  return { keyId, secret };
}

/**
 * HMAC-SHA256 with the server-side pepper, hex. Keys carry 256 random bits, so a slow hash buys nothing;
 * the pepper means a stolen database alone cannot confirm a guessed key. The id is bound into the MAC.
 */
export function hashSecret(pepper: string, keyId: string, secret: string): string {
  return createHmac('sha256', pepper).update(keyId).update(':').update(secret).digest('hex');
}

/** Constant-time comparison of two hex digests (unequal lengths are refused without leaking where). */
export function digestsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

export function verifySecret(pepper: string, keyId: string, secret: string, storedHash: string): boolean {
  return digestsEqual(hashSecret(pepper, keyId, secret), storedHash);
}
