// Service accounts of the caller's organization. The client secret is returned once, at creation; a deleted
// account's tokens stop working at once (the bearer strategy checks the account on every request). The last
// active account of an organization cannot be deleted (412), so an organization cannot lock itself out.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedSecrets } from '@conifer/config';
import { FailedPreconditionError, NotFoundError } from '@conifer/contracts';
import { hashSecret, mintClientCredentials } from '@conifer/keys';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { auditOf } from '../audit/audit.js';
import { isUuid } from '../common/request-params.js';
import { SECRETS } from '../config/runtime.js';
import { ServiceAccountsRepository, type ServiceAccount } from '../tenants/service-accounts.repository.js';

@Injectable()
export class ServiceAccountsService {
  constructor(
    @Inject(ServiceAccountsRepository) private readonly accounts: ServiceAccountsRepository,
    @Inject(SECRETS) private readonly secrets: ResolvedSecrets,
  ) {}

  async create(context: AdminContext, name: string): Promise<{ account: ServiceAccount; clientSecret: string }> {
    const id = randomUUID();
    const { clientId, clientSecret } = mintClientCredentials();
    const account = await this.accounts.create(
      { id, organizationId: context.organizationId, name, clientId, secretHash: hashSecret(this.secrets.keyPepper, clientId, clientSecret) },
      auditOf(context, 'service_account.create', 'service_account', id, { name, client_id: clientId }),
    );
    return { account, clientSecret };
  }

  list(context: AdminContext): Promise<ServiceAccount[]> {
    return this.accounts.listActive(context.organizationId);
  }

  async get(context: AdminContext, id: string): Promise<ServiceAccount> {
    const account = isUuid(id) ? await this.accounts.findById(id) : null;
    if (!account || account.organizationId !== context.organizationId || account.revokedAt !== null) {
      throw new NotFoundError(`Service account ${id} not found`);
    }
    return account;
  }

  async delete(context: AdminContext, id: string): Promise<void> {
    const outcome = isUuid(id)
      ? await this.accounts.revoke(context.organizationId, id, new Date(), auditOf(context, 'service_account.delete', 'service_account', id))
      : 'not_found';
    if (outcome === 'not_found') throw new NotFoundError(`Service account ${id} not found`);
    if (outcome === 'last_account') {
      throw new FailedPreconditionError('Cannot delete the last active service account of the organization; create another one first');
    }
  }
}
