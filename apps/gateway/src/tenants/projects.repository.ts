// Projects of an organization. Every lookup is scoped by organization: another tenant's project is
// indistinguishable from a missing one.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AlreadyExistsError } from '@conifer/contracts';
import { insertAuditEvent, type AuditEntry } from '../audit/audit.repository.js';
import { countLiveKeys, revokeProjectKeys, type RevokedKey } from '../auth/api-keys.repository.js';
import { PrismaService } from '../database/prisma.service.js';
import type { Tx } from '../database/tx.js';
import { Prisma } from '../generated/prisma/client.js';

export interface Project {
  readonly id: string;
  readonly organizationId: string;
  readonly name: string;
  readonly maxPods: number;
  readonly forceEncryptionWithCmek: boolean;
  readonly createdAt: Date;
}

export interface ProjectChanges {
  readonly name?: string;
  readonly maxPods?: number;
  readonly forceEncryptionWithCmek?: boolean;
}

export interface ProjectUsage {
  readonly indexes: number;
  /** Keys neither revoked nor expired. */
  readonly liveKeys: number;
}

export type DeleteProjectOutcome =
  | { readonly kind: 'deleted'; readonly revokedKeys: readonly RevokedKey[] }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'in_use'; readonly usage: ProjectUsage };

function toProject(row: Project): Project {
  return {
    id: row.id,
    organizationId: row.organizationId,
    name: row.name,
    maxPods: row.maxPods,
    forceEncryptionWithCmek: row.forceEncryptionWithCmek,
    createdAt: row.createdAt,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

async function lockProject(tx: Tx, organizationId: string, id: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text AS id FROM projects WHERE id = ${id}::uuid AND organization_id = ${organizationId}::uuid FOR UPDATE`;
  return rows.length === 1;
}

async function usageOf(tx: Tx, projectId: string, now: Date): Promise<ProjectUsage> {
  const [indexes, liveKeys] = await Promise.all([
    tx.vectorIndex.count({ where: { projectId } }),
    countLiveKeys(tx, projectId, now),
  ]);
  return { indexes, liveKeys };
}

/** The organization's project with this name, created when there is none (first-start provisioning). */
export async function findOrCreateProject(tx: Tx, organizationId: string, name: string): Promise<Project> {
  const row =
    (await tx.project.findFirst({ where: { organizationId, name } })) ??
    (await tx.project.create({ data: { id: randomUUID(), organizationId, name } }));
  return toProject(row);
}

@Injectable()
export class ProjectsRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  async findInOrganization(organizationId: string, id: string): Promise<Project | null> {
    const row = await this.prisma.project.findFirst({ where: { id, organizationId } });
    return row ? toProject(row) : null;
  }

  async list(organizationId: string): Promise<Project[]> {
    const rows = await this.prisma.project.findMany({ where: { organizationId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    return rows.map(toProject);
  }

  async create(project: Omit<Project, 'createdAt'>, audit: AuditEntry): Promise<Project> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.project.create({ data: { ...project } });
        await insertAuditEvent(tx, audit);
        return toProject(row);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`A project named "${project.name}" already exists`);
      throw error;
    }
  }

  async update(organizationId: string, id: string, changes: ProjectChanges, audit: AuditEntry): Promise<Project | null> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const { count } = await tx.project.updateMany({ where: { id, organizationId }, data: { ...changes } });
        if (count === 0) return null;
        await insertAuditEvent(tx, audit);
        return toProject(await tx.project.findUniqueOrThrow({ where: { id } }));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`A project named "${changes.name}" already exists`);
      throw error;
    }
  }

  async usage(projectId: string, now: Date): Promise<ProjectUsage> {
    return usageOf(this.prisma, projectId, now);
  }

  /** First step of a forced deletion: the project's keys stop working before its indexes are removed. */
  async revokeAllKeys(organizationId: string, projectId: string, at: Date, auditFor: (key: RevokedKey) => AuditEntry): Promise<RevokedKey[] | null> {
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockProject(tx, organizationId, projectId))) return null;
      return revokeProjectKeys(tx, projectId, at, auditFor);
    });
  }

  /**
   * Deletes the project (its key rows go with it; key_revocations and audit rows stay). Refused while it has
   * indexes, or live keys unless `force` (which revokes them in the same transaction).
   */
  async delete(
    organizationId: string,
    id: string,
    now: Date,
    audit: AuditEntry,
    auditForKey: (key: RevokedKey) => AuditEntry,
  ): Promise<DeleteProjectOutcome> {
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockProject(tx, organizationId, id))) return { kind: 'not_found' } as const;
      const usage = await usageOf(tx, id, now);
      // Indexes must be deleted first (as at Pinecone); the project's keys go with it.
      if (usage.indexes > 0) return { kind: 'in_use', usage } as const;
      const revokedKeys = await revokeProjectKeys(tx, id, now, auditForKey);
      await tx.project.delete({ where: { id } });
      await insertAuditEvent(tx, audit);
      return { kind: 'deleted', revokedKeys } as const;
    });
  }
}
