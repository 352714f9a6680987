// The Api-Key passport strategy: a thin shell over KeyVerifier. Refusals are ConiferErrors (401, 429, 503),
// which the guard rethrows and the global filter renders for the request's surface.
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { KeyVerifier, verificationError, VerificationStatus } from './key-verifier.js';
import type { ApiKeyPrincipal } from './principal.js';

export const API_KEY_STRATEGY = 'api-key';
export const API_KEY_HEADER = 'api-key';

/**
 * Passport keeps strategies in one process-wide registry, so with several gateways in one process (tests)
 * the last one registered would verify for all: the guard puts its own app's verifier on the request.
 */
export const REQUEST_VERIFIER = Symbol.for('conifer.auth.verifier');

type RequestWithHeaders = { headers: Record<string, string | string[] | undefined>; [REQUEST_VERIFIER]?: KeyVerifier };

@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) {
  constructor(@Inject(KeyVerifier) private readonly verifier: KeyVerifier) {
    super();
  }

  async validate(request: RequestWithHeaders): Promise<ApiKeyPrincipal> {
    const verifier = request[REQUEST_VERIFIER] ?? this.verifier;
    const verification = await verifier.verify(request.headers[API_KEY_HEADER]);
    if (verification.status === VerificationStatus.Valid) return verification.principal;
    throw verificationError(verification)!;
  }
}
