// The internal credential: every route except /healthz and /readyz needs x-conifer-internal-token.
// Compared in constant time (timingSafeEqual over the bytes). Only the length can be learnt from timing, and
// it is no secret (the configuration requires at least 32 characters); hashing the candidate on every request
// cost ~20 µs of CPU per request under load (bench/profiles).
import { timingSafeEqual } from 'node:crypto';

export { INTERNAL_TOKEN_HEADER } from '@conifer/contracts';

export class InternalTokenVerifier {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = Buffer.from(token, 'utf8');
  }

  verify(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || Buffer.byteLength(candidate, 'utf8') !== this.expected.length) return false;
    return timingSafeEqual(Buffer.from(candidate, 'utf8'), this.expected);
  }
}
