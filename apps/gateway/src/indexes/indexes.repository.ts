// The index catalog in Postgres (table `indexes`): the only file of the control plane that touches Prisma for
// indexes. Returns our IndexRecord; a duplicate (project, name) becomes AlreadyExistsError via the unique key.
import { Inject, Injectable } from '@nestjs/common';
import { AlreadyExistsError, schemaFromVectorSettings, type IndexSchema } from '@conifer/contracts';
import { PrismaService } from '../database/prisma.service.js';
import { Prisma, type VectorIndex } from '../generated/prisma/client.js';
import type { IndexRecord } from './index-model.js';
import type { IndexMetric, IndexState, IndexVectorType, ServerlessSpec } from './index-request.js';

export interface IndexChanges {
  readonly state?: IndexState;
  readonly deletionProtection?: boolean;
  readonly tags?: Readonly<Record<string, string>>;
}

export abstract class IndexesRepository {
  /** Inserts a new index; AlreadyExistsError when the project already has one of that name. */
  abstract insert(index: Omit<IndexRecord, 'createdAt'>): Promise<IndexRecord>;
  abstract findByName(projectId: string, name: string): Promise<IndexRecord | null>;
  abstract listByProject(projectId: string): Promise<IndexRecord[]>;
  /** Applies the changes; null when the index no longer exists. */
  abstract update(id: string, changes: IndexChanges): Promise<IndexRecord | null>;
  abstract delete(id: string): Promise<void>;
  /** Number of catalogued indexes per node id. */
  abstract countByNode(): Promise<Map<string, number>>;
  /** Indexes left in one of these states since before the given time (interrupted creations and deletions). */
  abstract listStuck(states: readonly IndexState[], updatedBefore: Date): Promise<IndexRecord[]>;
}

function toRecord(row: VectorIndex): IndexRecord {
  const vectors = { dimension: row.dimension, metric: row.metric as IndexMetric, vectorType: row.vectorType as IndexVectorType };
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    dimension: row.dimension,
    metric: row.metric as IndexMetric,
    vectorType: row.vectorType as IndexVectorType,
    deletionProtection: row.deletionProtection,
    tags: (row.tags ?? {}) as Record<string, string>,
    spec: row.spec as unknown as ServerlessSpec,
    schema: (row.schema as unknown as IndexSchema | null) ?? schemaFromVectorSettings(vectors),
    state: row.state as IndexState,
    nodeId: row.nodeId,
    createdAt: row.createdAt,
  };
}

@Injectable()
export class PrismaIndexesRepository extends IndexesRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {
    super();
  }

  async insert(index: Omit<IndexRecord, 'createdAt'>): Promise<IndexRecord> {
    try {
      const row = await this.prisma.vectorIndex.create({
        data: {
          id: index.id,
          projectId: index.projectId,
          name: index.name,
          dimension: index.dimension,
          metric: index.metric,
          vectorType: index.vectorType,
          deletionProtection: index.deletionProtection,
          tags: index.tags as Prisma.InputJsonObject,
          spec: index.spec as unknown as Prisma.InputJsonObject,
          schema: index.schema as unknown as Prisma.InputJsonObject,
          state: index.state,
          nodeId: index.nodeId,
        },
      });
      return toRecord(row);
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        throw new AlreadyExistsError(`Resource ${index.name} already exists`);
      }
      throw error;
    }
  }

  async findByName(projectId: string, name: string): Promise<IndexRecord | null> {
    const row = await this.prisma.vectorIndex.findUnique({ where: { projectId_name: { projectId, name } } });
    return row ? toRecord(row) : null;
  }

  async listByProject(projectId: string): Promise<IndexRecord[]> {
    const rows = await this.prisma.vectorIndex.findMany({ where: { projectId }, orderBy: { name: 'asc' } });
    return rows.map(toRecord);
  }

  async update(id: string, changes: IndexChanges): Promise<IndexRecord | null> {
    const result = await this.prisma.vectorIndex.updateManyAndReturn({
      where: { id },
      data: {
        ...(changes.state === undefined ? {} : { state: changes.state }),
        ...(changes.deletionProtection === undefined ? {} : { deletionProtection: changes.deletionProtection }),
        ...(changes.tags === undefined ? {} : { tags: changes.tags as Prisma.InputJsonObject }),
      },
    });
    return result[0] ? toRecord(result[0]) : null;
  }

  async delete(id: string): Promise<void> {
    await this.prisma.vectorIndex.deleteMany({ where: { id } });
  }

  async listStuck(states: readonly IndexState[], updatedBefore: Date): Promise<IndexRecord[]> {
    const rows = await this.prisma.vectorIndex.findMany({
      where: { state: { in: [...states] }, updatedAt: { lt: updatedBefore } },
      orderBy: { updatedAt: 'asc' },
      take: 100,
    });
    return rows.map(toRecord);
  }

  async countByNode(): Promise<Map<string, number>> {
    const groups = await this.prisma.vectorIndex.groupBy({ by: ['nodeId'], _count: { _all: true } });
    return new Map(groups.map((group) => [group.nodeId, group._count._all]));
  }
}
