import { describe, expect, it } from '@jest/globals';
import { KeyStatus, keyStatus } from './key-status.js';

const now = new Date('2030-06-01T12:00:00.000Z');
const at = (offsetMs: number) => new Date(now.getTime() + offsetMs);

describe('keyStatus', () => {
  it('VALID without revocation or expiry, or before expiry', () => {
    expect(keyStatus({ revokedAt: null, expiresAt: null }, now)).toBe(KeyStatus.VALID);
    expect(keyStatus({ revokedAt: null, expiresAt: at(1) }, now)).toBe(KeyStatus.VALID);
  });

  it('EXPIRED from the instant of expiry on (end of a rotation grace period)', () => {
    expect(keyStatus({ revokedAt: null, expiresAt: at(0) }, now)).toBe(KeyStatus.EXPIRED);
    expect(keyStatus({ revokedAt: null, expiresAt: at(-1) }, now)).toBe(KeyStatus.EXPIRED);
  });

  it('REVOKED once revoked, even when also expired', () => {
    expect(keyStatus({ revokedAt: at(-1000), expiresAt: null }, now)).toBe(KeyStatus.REVOKED);
    expect(keyStatus({ revokedAt: at(-1000), expiresAt: at(-5000) }, now)).toBe(KeyStatus.REVOKED);
    expect(keyStatus({ revokedAt: at(-1000), expiresAt: at(5000) }, now)).toBe(KeyStatus.REVOKED);
  });
});
