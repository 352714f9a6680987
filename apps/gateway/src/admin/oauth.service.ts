// Client-credentials grant: a service account's client id and secret for a short-lived bearer token.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { ResourceExhaustedError, UnauthenticatedError, type TokenRequest } from '@conifer/contracts';
import { digestsEqual, hashSecret } from '@conifer/keys';
import { CONFIG, SECRETS } from '../config/runtime.js';
import { signAdminToken } from './admin-token.js';
import { LoginThrottle } from './login-throttle.js';
import { ServiceAccountsRepository } from './service-accounts.repository.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** Compared against when the client id is unknown, so both failures cost the same. */
const DUMMY_HASH = '0'.repeat(64);

@Injectable()
export class OAuthService {
  constructor(
    @Inject(ServiceAccountsRepository) private readonly accounts: ServiceAccountsRepository,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(SECRETS) private readonly secrets: ResolvedSecrets,
  ) {}

  async issueToken(request: TokenRequest, clientAddress: string | null): Promise<TokenResponse> {
    const address = clientAddress ?? 'unknown';
    const wait = await this.throttle.retryAfterSeconds(address);
    if (wait > 0) throw new ResourceExhaustedError('Too many failed token requests from this address; try again later', wait);

    const account = await this.accounts.findByClientId(request.clientId);
    const presented = hashSecret(this.secrets.keyPepper, request.clientId, request.clientSecret);
    const matches = digestsEqual(presented, account?.secretHash ?? DUMMY_HASH);
    if (!account || !matches || account.revokedAt !== null) {
      await this.throttle.recordFailure(address);
      if (account) {
        await this.accounts.recordAudit({
          organizationId: account.organizationId,
          actorType: 'service_account',
          actorId: account.id,
          action: 'oauth.token_failed',
          targetType: 'service_account',
          targetId: account.id,
          clientAddress,
          details: { reason: account.revokedAt !== null ? 'revoked' : 'bad_secret' },
        });
      }
      throw new UnauthenticatedError('Invalid client credentials');
    }
    const ttl = this.config.gateway.adminTokenTtlSeconds;
    const { claims, token } = signAdminToken(
      this.secrets.tokenSecret,
      { serviceAccountId: account.id, organizationId: account.organizationId, clientId: account.clientId },
      ttl,
    );
    await this.accounts.recordAudit({
      organizationId: account.organizationId,
      actorType: 'service_account',
      actorId: account.id,
      action: 'oauth.token',
      targetType: 'service_account',
      targetId: account.id,
      clientAddress,
      details: { expires_at: new Date(claims.exp * 1000).toISOString() },
    });
    return { access_token: token, token_type: 'Bearer', expires_in: ttl };
  }
}
