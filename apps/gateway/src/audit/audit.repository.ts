// Audit log storage, the only writer of audit_events. Every admin change writes its audit row inside the same transaction as the change, through
// insertAuditEvent(tx, …); failed logins are recorded on their own (record).
import { Inject, Injectable } from '@nestjs/common';
import type { AuditFilter } from '@conifer/contracts';
import { PrismaService } from '../database/prisma.service.js';
import type { Tx } from '../database/tx.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface AuditEntry {
  readonly organizationId: string;
  readonly actorType: 'service_account' | 'system';
  readonly actorId: string | null;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string | null;
  readonly clientAddress: string | null;
  /** Never secrets. */
  readonly details?: Record<string, unknown>;
}

export interface AuditEvent extends Required<AuditEntry> {
  readonly id: bigint;
  readonly createdAt: Date;
}

export async function insertAuditEvent(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditEvent.create({
    data: {
      organizationId: entry.organizationId,
      actorType: entry.actorType,
      actorId: entry.actorId,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      clientAddress: entry.clientAddress,
      details: (entry.details ?? {}) as Prisma.InputJsonObject,
    },
  });
}

@Injectable()
export class AuditRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  async record(entry: AuditEntry): Promise<void> {
    await insertAuditEvent(this.prisma, entry);
  }

  /** Newest first, always within the organization; `beforeId` continues a previous page; `filter` fields must all match. */
  async list(organizationId: string, limit: number, beforeId?: bigint, filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const createdAt = filter.from || filter.to ? { ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lt: filter.to } : {}) } : undefined;
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        organizationId,
        ...(beforeId === undefined ? {} : { id: { lt: beforeId } }),
        ...(filter.action === undefined ? {} : { action: filter.action }),
        ...(filter.actorType === undefined ? {} : { actorType: filter.actorType }),
        ...(filter.actorId === undefined ? {} : { actorId: filter.actorId }),
        ...(filter.targetType === undefined ? {} : { targetType: filter.targetType }),
        ...(filter.targetId === undefined ? {} : { targetId: filter.targetId }),
        ...(createdAt ? { createdAt } : {}),
      },
      orderBy: { id: 'desc' },
      take: limit,
    });
    return rows.map((row) => ({
      id: row.id,
      organizationId: row.organizationId,
      actorType: row.actorType as AuditEntry['actorType'],
      actorId: row.actorId,
      action: row.action,
      targetType: row.targetType,
      targetId: row.targetId,
      clientAddress: row.clientAddress,
      details: (row.details ?? {}) as Record<string, unknown>,
      createdAt: row.createdAt,
    }));
  }
}
