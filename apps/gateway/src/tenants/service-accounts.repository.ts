// Service accounts (admin API clients) of an organization. The client secret is stored as
// hashSecret(pepper, clientId, clientSecret), never in clear.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { insertAuditEvent, type AuditEntry } from '../audit/audit.repository.js';
import { PrismaService } from '../database/prisma.service.js';
import type { Tx } from '../database/tx.js';

export interface ServiceAccount {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly clientId: string;
  readonly secretHash: string;
  readonly isBootstrap: boolean;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

export interface NewServiceAccount {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly clientId: string;
  readonly secretHash: string;
}

function toAccount(row: ServiceAccount): ServiceAccount {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    clientId: row.clientId,
    secretHash: row.secretHash,
    isBootstrap: row.isBootstrap,
    createdAt: row.createdAt,
    revokedAt: row.revokedAt,
  };
}

/**
 * First-start provisioning: the account with the configured client id, or without one the oldest active
 * bootstrap account, else the oldest deleted one (a deleted bootstrap account stays deleted).
 */
export async function findBootstrapAccount(tx: Tx, configuredClientId: string | undefined): Promise<ServiceAccount | null> {
  const row = configuredClientId
    ? await tx.serviceAccount.findUnique({ where: { clientId: configuredClientId } })
    : ((await tx.serviceAccount.findFirst({ where: { isBootstrap: true, revokedAt: null }, orderBy: { createdAt: 'asc' } })) ??
      (await tx.serviceAccount.findFirst({ where: { isBootstrap: true }, orderBy: { createdAt: 'asc' } })));
  return row ? toAccount(row) : null;
}

export async function setAccountSecretHash(tx: Tx, id: string, secretHash: string): Promise<void> {
  await tx.serviceAccount.update({ where: { id }, data: { secretHash } });
}

export async function createBootstrapAccount(tx: Tx, organizationId: string, clientId: string, secretHash: string): Promise<ServiceAccount> {
  const row = await tx.serviceAccount.create({
    data: { id: randomUUID(), organizationId, name: 'bootstrap', clientId, secretHash, isBootstrap: true },
  });
  return toAccount(row);
}

@Injectable()
export class ServiceAccountsRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  async findById(id: string): Promise<ServiceAccount | null> {
    const row = await this.prisma.serviceAccount.findUnique({ where: { id } });
    return row ? toAccount(row) : null;
  }

  async findByClientId(clientId: string): Promise<ServiceAccount | null> {
    const row = await this.prisma.serviceAccount.findUnique({ where: { clientId } });
    return row ? toAccount(row) : null;
  }

  async listActive(organizationId: string): Promise<ServiceAccount[]> {
    const rows = await this.prisma.serviceAccount.findMany({
      where: { organizationId, revokedAt: null },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map(toAccount);
  }

  async create(account: NewServiceAccount, audit: AuditEntry): Promise<ServiceAccount> {
    return this.prisma.$transaction(async (tx) => {
      const row = await tx.serviceAccount.create({ data: { ...account } });
      await insertAuditEvent(tx, audit);
      return toAccount(row);
    });
  }

  /** Revokes an active account of the organization, unless it is its last active one. */
  async revoke(organizationId: string, id: string, at: Date, audit: AuditEntry): Promise<'revoked' | 'not_found' | 'last_account'> {
    return this.prisma.$transaction(async (tx) => {
      // Lock the organization's active accounts so two concurrent deletions cannot remove the last two.
      const active = await tx.$queryRaw<{ id: string }[]>`
        SELECT id::text AS id FROM service_accounts
         WHERE organization_id = ${organizationId}::uuid AND revoked_at IS NULL
         FOR UPDATE`;
      if (!active.some((row) => row.id === id)) return 'not_found';
      if (active.length === 1) return 'last_account';
      await tx.serviceAccount.update({ where: { id }, data: { revokedAt: at } });
      await insertAuditEvent(tx, audit);
      return 'revoked';
    });
  }
}
