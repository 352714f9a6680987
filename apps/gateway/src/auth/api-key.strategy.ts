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

/** A connection's last warm key: the header as presented, and what the warm path accepted it as. */
const CONNECTION_KEY = Symbol('conifer.auth.connection-key');
export type KeyMemoHolder = { [CONNECTION_KEY]?: { verifier: KeyVerifier; header: string; keyId: string; principal: ApiKeyPrincipal } };

/** Equal strings, compared without an early exit (the time says nothing about where they differ). */
export function sameKeyString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

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

  /**
   * `validateWarmKey` for a request on a keep-alive connection: when the header is the one this connection
   * presented last and the warm path accepted (compared in constant time: a connection may carry several
   * clients' requests behind a proxy), the verifier re-checks the cached record without parsing or hashing the
   * secret again (KeyVerifier.verifyWarmRepeat); otherwise the full warm check, remembered for the connection.
   */
  validateWarmOnConnection(
    header: string | string[] | undefined,
    address: string,
    verifier: KeyVerifier,
    throttle: KeyFailureThrottle | undefined,
    connection: KeyMemoHolder,
  ): ApiKeyPrincipal | undefined {
    if (typeof header !== 'string') return undefined;
    const memo = connection[CONNECTION_KEY];
    if (memo !== undefined && memo.verifier === verifier && sameKeyString(memo.header, header)) {
      if (throttle && throttle.wait(address, memo.keyId, header) > 0) return undefined;
      const again = verifier.verifyWarmRepeat(memo.keyId, memo.principal);
      if (again !== undefined) return again;
    }
    const parsed = parseApiKey(header);
    if (parsed === null) return undefined;
    if (throttle && throttle.wait(address, parsed.keyId, header) > 0) return undefined;
    const principal = verifier.verifyWarm(parsed);
    if (principal !== undefined) connection[CONNECTION_KEY] = { verifier, header, keyId: parsed.keyId, principal };
    return principal;
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
