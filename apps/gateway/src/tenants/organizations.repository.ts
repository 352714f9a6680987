import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { insertAuditEvent, type AuditEntry } from '../audit/audit.repository.js';
import { PrismaService } from '../database/prisma.service.js';
import type { Tx } from '../database/tx.js';

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

/** The oldest organization with this name, created when there is none (first-start provisioning). */
export async function findOrCreateOrganization(tx: Tx, name: string): Promise<Organization> {
  const row =
    (await tx.organization.findFirst({ where: { name }, orderBy: { createdAt: 'asc' } })) ??
    (await tx.organization.create({ data: { id: randomUUID(), name } }));
  return { id: row.id, name: row.name, createdAt: row.createdAt };
}

@Injectable()
export class OrganizationsRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  async find(id: string): Promise<Organization | null> {
    const row = await this.prisma.organization.findUnique({ where: { id } });
    return row ? { id: row.id, name: row.name, createdAt: row.createdAt } : null;
  }

  async rename(id: string, name: string, audit: AuditEntry): Promise<Organization | null> {
    return this.prisma.$transaction(async (tx) => {
      const { count } = await tx.organization.updateMany({ where: { id }, data: { name } });
      if (count === 0) return null;
      await insertAuditEvent(tx, audit);
      const row = await tx.organization.findUniqueOrThrow({ where: { id } });
      return { id: row.id, name: row.name, createdAt: row.createdAt };
    });
  }
}
