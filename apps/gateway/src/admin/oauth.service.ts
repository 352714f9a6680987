// Client-credentials grant: a service account's client id and secret for a short-lived bearer token.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { ResourceExhaustedError, UnauthenticatedError, type TokenRequest } from '@conifer/contracts';
import { digestsEqual, hashSecret } from '@conifer/keys';
import type { Logger } from 'pino';
import { signAdminToken } from '../admin-auth/admin-token.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { LOGGER } from '../common/logger.js';
import { CONFIG, SECRETS } from '../config/runtime.js';
import { ServiceAccountsRepository } from '../tenants/service-accounts.repository.js';
import { LoginThrottle } from './login-throttle.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** Compared against when the client id is unknown, so both failures cost the same. */
const DUMMY_HASH = '0'.repeat(64);
const MAX_AUDITED_ACCOUNTS = 10_000;

@Injectable()
export class OAuthService {
  constructor(
    @Inject(ServiceAccountsRepository) private readonly accounts: ServiceAccountsRepository,
    @Inject(AuditRepository) private readonly audit: AuditRepository,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(SECRETS) private readonly secrets: ResolvedSecrets,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** When a failed token request was last audited, per service account (this replica). */
  private readonly failureAudited = new Map<string, number>();

  async issueToken(request: TokenRequest, clientAddress: string | null): Promise<TokenResponse> {
    const address = clientAddress ?? 'unknown';
    // Counted before the credentials are checked; un-counted below when they are right.
    const attempt = await this.throttle.attempt(address);
    if (!('succeeded' in attempt)) {
      throw new ResourceExhaustedError('Too many failed token requests from this address; try again later', attempt.retryAfterSeconds);
    }

    const account = await this.accounts.findByClientId(request.clientId);
    const presented = hashSecret(this.secrets.keyPepper, request.clientId, request.clientSecret);
    const matches = digestsEqual(presented, account?.secretHash ?? DUMMY_HASH);
    if (!account || !matches || account.revokedAt !== null) {
      // The same work and the same answer whether the client id exists or not: the audit row of a failure on a
      // known account is written off the request path, and at most once per account and window (an
      // unauthenticated caller must not be able to time the answer or flood the organization's audit log).
      if (account) this.auditFailure(account, clientAddress);
      throw new UnauthenticatedError('Invalid client credentials');
    }
    await attempt.succeeded();
    const ttl = this.config.gateway.adminTokenTtlSeconds;
    const { claims, token } = signAdminToken(
      this.secrets.tokenSecret,
      { serviceAccountId: account.id, organizationId: account.organizationId, clientId: account.clientId },
      ttl,
    );
    await this.audit.record({
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

  private auditFailure(account: { id: string; organizationId: string; revokedAt: Date | null }, clientAddress: string | null): void {
    const now = Date.now();
    const windowMs = this.config.gateway.adminLoginWindowSeconds * 1000;
    const last = this.failureAudited.get(account.id);
    if (last !== undefined && now - last < windowMs) return;
    this.failureAudited.set(account.id, now);
    if (this.failureAudited.size > MAX_AUDITED_ACCOUNTS) this.failureAudited.delete(this.failureAudited.keys().next().value as string);
    void this.audit
      .record({
        organizationId: account.organizationId,
        actorType: 'service_account',
        actorId: account.id,
        action: 'oauth.token_failed',
        targetType: 'service_account',
        targetId: account.id,
        clientAddress,
        details: { reason: account.revokedAt !== null ? 'revoked' : 'bad_secret' },
      })
      .catch((error: unknown) => this.logger.warn({ err: (error as Error).message }, 'could not record a failed token request'));
  }
}
