// Resolves an admin caller from `Authorization: Bearer <token>`: signature and expiry (no I/O), then the service
// account, which must still exist, be active and belong to the token's organization.
import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedSecrets } from '@conifer/config';
import { UnauthenticatedError } from '@conifer/contracts';
import { SECRETS } from '../config/runtime.js';
import { ServiceAccountsRepository } from '../tenants/service-accounts.repository.js';
import type { AdminPrincipal } from './admin-context.js';
import { verifyAdminToken } from './admin-token.js';

export class AdminUnauthenticatedError extends UnauthenticatedError {
  override headers(): Record<string, string> {
    return { 'www-authenticate': 'Bearer realm="conifer-admin"' };
  }
}

@Injectable()
export class AdminAuthenticator {
  constructor(
    @Inject(SECRETS) private readonly secrets: ResolvedSecrets,
    @Inject(ServiceAccountsRepository) private readonly accounts: ServiceAccountsRepository,
  ) {}

  async authenticate(authorization: string | string[] | undefined): Promise<AdminPrincipal> {
    if (typeof authorization !== 'string' || authorization.length === 0) {
      throw new AdminUnauthenticatedError('Missing access token: send Authorization: Bearer <token> from POST /oauth/token');
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    const claims = match ? verifyAdminToken(this.secrets.tokenSecret, match[1]!) : null;
    if (!claims) throw new AdminUnauthenticatedError('Invalid or expired access token');
    const account = await this.accounts.findById(claims.sub);
    if (!account || account.revokedAt !== null || account.organizationId !== claims.org) {
      throw new AdminUnauthenticatedError('Invalid or expired access token');
    }
    return { serviceAccountId: account.id, organizationId: account.organizationId, clientId: account.clientId };
  }
}
