// First-start provisioning in one transaction: the "default" organization and project and the bootstrap service
// account (created when missing, its configured secret kept in sync; once deleted it stays deleted), with audit
// rows. Each table is written through its own repository's helpers; this file holds the transaction and lock.
import { Inject, Injectable } from '@nestjs/common';
import { insertAuditEvent } from '../audit/audit.repository.js';
import { PrismaService } from '../database/prisma.service.js';
import { findOrCreateOrganization } from './organizations.repository.js';
import { findOrCreateProject } from './projects.repository.js';
import { createBootstrapAccount, findBootstrapAccount, setAccountSecretHash } from './service-accounts.repository.js';

export interface BootstrapAccountSpec {
  readonly organizationName: string;
  readonly projectName: string;
  /** Configured credentials: looked up by client id and kept in sync. Absent: the first active bootstrap account. */
  readonly configuredClientId?: string;
  /** Hash of the configured secret, to store when it changed. */
  readonly configuredSecretHash?: string;
  /** Credentials for a new account, used when none exists yet. */
  readonly newClientId: string;
  readonly newSecretHash: string;
}

export interface BootstrapOutcome {
  readonly created: boolean;
  /** The bootstrap account exists but was deleted: it stays deleted. */
  readonly deleted?: boolean;
  readonly organizationId: string;
  readonly projectId?: string;
  readonly clientId: string;
}

@Injectable()
export class BootstrapRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  async ensure(spec: BootstrapAccountSpec): Promise<BootstrapOutcome> {
    return this.prisma.$transaction(async (tx) => {
      // Serialise concurrent first starts of several replicas.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(72707370)`;
      // A deleted account counts as existing: it is never brought back (DESIGN §6), and with generated
      // credentials no new one is made behind the operator's back either.
      const existing = await findBootstrapAccount(tx, spec.configuredClientId);
      if (existing?.revokedAt) {
        return { created: false, deleted: true, organizationId: existing.organizationId, clientId: existing.clientId };
      }
      if (existing) {
        if (spec.configuredSecretHash && spec.configuredSecretHash !== existing.secretHash) {
          await setAccountSecretHash(tx, existing.id, spec.configuredSecretHash);
          await insertAuditEvent(tx, {
            organizationId: existing.organizationId,
            actorType: 'system',
            actorId: null,
            action: 'service_account.bootstrap_secret_changed',
            targetType: 'service_account',
            targetId: existing.id,
            clientAddress: null,
            details: { client_id: existing.clientId },
          });
        }
        return { created: false, organizationId: existing.organizationId, clientId: existing.clientId };
      }
      const organization = await findOrCreateOrganization(tx, spec.organizationName);
      const project = await findOrCreateProject(tx, organization.id, spec.projectName);
      const account = await createBootstrapAccount(tx, organization.id, spec.newClientId, spec.newSecretHash);
      await insertAuditEvent(tx, {
        organizationId: organization.id,
        actorType: 'system',
        actorId: null,
        action: 'service_account.bootstrap',
        targetType: 'service_account',
        targetId: account.id,
        clientAddress: null,
        details: { client_id: account.clientId, project_id: project.id },
      });
      return { created: true, organizationId: organization.id, projectId: project.id, clientId: account.clientId };
    });
  }
}
