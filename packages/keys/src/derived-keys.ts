// Keys derived from the server-side pepper for purposes other than hashing API keys (HKDF-SHA256, one per
// purpose, so a MAC made for one use is worthless for another), and a MAC check in constant time.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** A 32-byte key for `purpose`, derived from the pepper. */
export function derivePepperKey(pepper: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', pepper, 'conifer', purpose, 32));
}

/** HMAC-SHA256 of the parts (each length-prefixed, so boundaries cannot shift), base64url. */
export function macOf(key: Buffer, ...parts: string[]): string {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(`${Buffer.byteLength(part)}:`).update(part);
  return mac.digest('base64url');
}

export function macMatches(key: Buffer, mac: string, ...parts: string[]): boolean {
  const expected = Buffer.from(macOf(key, ...parts));
  const given = Buffer.from(mac);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
