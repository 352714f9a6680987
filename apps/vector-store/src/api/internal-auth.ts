// The internal credential: every route except /healthz and /readyz needs x-conifer-internal-token.
// Compared in constant time on SHA-256 digests (equal lengths whatever the caller sends).
import { createHash, timingSafeEqual } from 'node:crypto';

export { INTERNAL_TOKEN_HEADER } from '@conifer/contracts';

export class InternalTokenVerifier {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = createHash('sha256').update(token, 'utf8').digest();
  }

  verify(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0) return false;
    const digest = createHash('sha256').update(candidate, 'utf8').digest();
    return timingSafeEqual(digest, this.expected);
  }
}
