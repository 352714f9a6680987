// The Api-Key passport strategy: a thin shell over KeyVerifier. Refusals are ConiferErrors (401, 429, 503),
// which the guard rethrows and the global filter renders for the request's surface.
import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import { ResourceExhaustedError } from '@conifer/contracts';
import { parseApiKey } from '@conifer/keys';
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
/** Same for the throttle of invalid keys (per address and per key id). */
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

  /**
   * `validate`'s warm path, synchronous: a well-formed key that the verifier accepts from its in-process cache
   * without I/O (KeyVerifier.verifyWarm), from an address and for a key id not throttled. Undefined in every
   * other case (nothing counted or recorded): the caller then awaits `validate`, which decides refusals.
   */
  validateWarm(request: RequestWithHeaders): ApiKeyPrincipal | undefined {
    return this.validateWarmKey(request.headers[API_KEY_HEADER], request.ip ?? 'unknown', request[REQUEST_VERIFIER] ?? this.verifier, request[REQUEST_THROTTLE]);
  }

  /** `validateWarm` over its parts (the data plane's front path has no request object to decorate). */
  validateWarmKey(header: string | string[] | undefined, address: string, verifier: KeyVerifier, throttle: KeyFailureThrottle | undefined): ApiKeyPrincipal | undefined {
    if (typeof header !== 'string') return undefined;
    const parsed = parseApiKey(header);
    if (parsed === null) return undefined;
    if (throttle && throttle.wait(address, parsed.keyId, header) > 0) return undefined;
    return verifier.verifyWarm(parsed);
  }

  async validate(request: RequestWithHeaders): Promise<ApiKeyPrincipal> {
    const verifier = request[REQUEST_VERIFIER] ?? this.verifier;
    const throttle = request[REQUEST_THROTTLE];
    const address = request.ip ?? 'unknown';
    const header = request.headers[API_KEY_HEADER];
    const presented = typeof header === 'string' ? header : Array.isArray(header) ? header.join(', ') : '';
    // Counted before verifying (checked and counted in one step), per address and per key id.
    const start = throttle && presented !== '' ? throttle.begin(address, parseApiKey(presented)?.keyId ?? null, presented) : undefined;
    if (start && start.retryAfterSeconds > 0) {
      throw new ResourceExhaustedError('Too many invalid API keys from this address or for this key; try again later', start.retryAfterSeconds);
    }
    let guess = false;
    try {
      const verification = await verifier.verify(header);
      if (verification.status === VerificationStatus.Valid) return verification.principal;
      guess = verification.status === VerificationStatus.Malformed || verification.status === VerificationStatus.NotFound;
      throw verificationError(verification)!;
    } finally {
      if (start?.attempt) throttle!.end(start.attempt, guess);
    }
  }
}
