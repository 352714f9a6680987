// The internal credential: every route except /healthz and /readyz needs x-conifer-internal-token.
// Compared in constant time on SHA-256 digests (equal lengths whatever the caller sends). The digest is taken
// with the one-shot crypto.hash (no Hash object per request: createHash cost ~18 µs of CPU per request under
// load, bench/profiles).
import { createHash, hash, timingSafeEqual } from 'node:crypto';

export { INTERNAL_TOKEN_HEADER } from '@conifer/contracts';

/**
 * Marks a request of a framed connection whose Upgrade presented the right token (checked once, there): the
 * onRequest hook accepts it without hashing a token per request. Only the frame listener sets it, on its own
 * request objects (a symbol property: nothing a peer sends can set it); the token itself is never copied
 * into a framed request's headers, so a connection that failed the check gets 401 on every request.
 */
export const FRAMED_AUTHENTICATED = Symbol('conifer.store.framed-authenticated');

export class InternalTokenVerifier {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = createHash('sha256').update(token, 'utf8').digest();
  }

  /** The request's credential: a framed request from a connection checked at its Upgrade, or the token header. */
  verifyRequest(raw: object, candidate: string | string[] | undefined): boolean {
    return (raw as { [FRAMED_AUTHENTICATED]?: boolean })[FRAMED_AUTHENTICATED] === true || this.verify(candidate);
  }

  verify(candidate: string | string[] | undefined): boolean {
    if (typeof candidate !== 'string' || candidate.length === 0) return false;
    const digest = hash('sha256', candidate, 'buffer');
    return timingSafeEqual(digest, this.expected);
  }
}
