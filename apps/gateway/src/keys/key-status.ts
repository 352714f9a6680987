// Whether a stored key may authenticate a request at a given time. Pure: the key service uses it for the status
// it shows and for its rules; the per-request verifier can use it on a cached row.
export const KeyStatus = {
  VALID: 'VALID',
  REVOKED: 'REVOKED',
  EXPIRED: 'EXPIRED',
} as const;

export type KeyStatus = (typeof KeyStatus)[keyof typeof KeyStatus];

export interface KeyValidityFields {
  readonly revokedAt: Date | null;
  readonly expiresAt: Date | null;
}

/** Revocation wins over expiry; a key expires at the instant of expiresAt (a rotated key at the end of its grace). */
export function keyStatus(key: KeyValidityFields, now: Date): KeyStatus {
  if (key.revokedAt !== null && key.revokedAt.getTime() <= now.getTime()) return KeyStatus.REVOKED;
  if (key.expiresAt !== null && key.expiresAt.getTime() <= now.getTime()) return KeyStatus.EXPIRED;
  return KeyStatus.VALID;
}

/** The status as the admin API shows it. */
export function wireKeyStatus(status: KeyStatus): 'active' | 'revoked' | 'expired' {
  return status === KeyStatus.VALID ? 'active' : status === KeyStatus.REVOKED ? 'revoked' : 'expired';
}
