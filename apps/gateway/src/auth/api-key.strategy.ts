// The Api-Key passport strategy: a thin shell over KeyVerifier. Refusals are ConiferErrors (401, 429, 503),
// which the guard rethrows and the global filter renders for the request's surface.
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { ResourceExhaustedError } from '@conifer/contracts';
import type { KeyFailureThrottle } from './key-failure-throttle.js';
import { KeyVerifier, verificationError, VerificationStatus } from './key-verifier.js';
import type { ApiKeyPrincipal } from './principal.js';

export const API_KEY_STRATEGY = 'api-key';
export const API_KEY_HEADER = 'api-key';

/**
 * Passport keeps strategies in one process-wide registry, so with several gateways in one process (tests)
 * the last one registered would verify for all: the guard puts its own app's verifier on the request.
 */
export const REQUEST_VERIFIER = Symbol.for('conifer.auth.verifier');
/** Same for the per-address throttle of invalid keys. */
export const REQUEST_THROTTLE = Symbol.for('conifer.auth.key-failure-throttle');

type RequestWithHeaders = {
  headers: Record<string, string | string[] | undefined>;
  ip?: string;
  [REQUEST_VERIFIER]?: KeyVerifier;
  [REQUEST_THROTTLE]?: KeyFailureThrottle;
};

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(@Inject(KeyVerifier) private readonly verifier: KeyVerifier) {
    super();
  }

  async validate(request: RequestWithHeaders): Promise<ApiKeyPrincipal> {
    const verifier = request[REQUEST_VERIFIER] ?? this.verifier;
    const throttle = request[REQUEST_THROTTLE];
    const address = request.ip ?? 'unknown';
    const wait = throttle?.retryAfterSeconds(address) ?? 0;
    if (wait > 0) throw new ResourceExhaustedError('Too many invalid API keys from this address; try again later', wait);
    const verification = await verifier.verify(request.headers[API_KEY_HEADER]);
    if (verification.status === VerificationStatus.Valid) return verification.principal;
    if (verification.status === VerificationStatus.Malformed || verification.status === VerificationStatus.NotFound) {
      throttle?.recordFailure(address);
    }
    throw verificationError(verification)!;
  }
}
