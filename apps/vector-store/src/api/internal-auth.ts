// The internal credential: every route except /healthz and /readyz needs x-conifer-internal-token.
// Compared in constant time on SHA-256 digests (equal lengths whatever the caller sends). The digest is taken
// with the one-shot crypto.hash (no Hash object per request: createHash cost ~18 µs of CPU per request under
// load, bench/profiles).
import { createHash, hash, timingSafeEqual } from 'node:crypto';

export { INTERNAL_TOKEN_HEADER } from '@conifer/contracts';

export class InternalTokenVerifier {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = createHash('sha256').update(token, 'utf8').digest();
  }

  verify(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0) return false;
    const digest = hash('sha256', candidate, 'buffer');
    return timingSafeEqual(digest, this.expected);
  }
}
