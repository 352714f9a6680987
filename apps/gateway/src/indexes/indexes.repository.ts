// The index catalog in Postgres (tables `indexes` and `index_replicas`): the only file of the control plane that
// touches Prisma for indexes. Returns our IndexRecord (with its replicas); a duplicate (project, name) becomes
// AlreadyExistsError via the unique key.
import { Inject, Injectable } from '@nestjs/common';
import { AlreadyExistsError, schemaFromVectorSettings, type IndexSchema } from '@conifer/contracts';
import { PrismaService } from '../database/prisma.service.js';
import { Prisma, type VectorIndex } from '../generated/prisma/client.js';
import type { IndexRecord, ReplicaRecord, ReplicaState } from './index-model.js';
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
  /** Number of catalogued replicas per node id. */
  abstract countByNode(): Promise<Map<string, number>>;
  abstract findById(id: string): Promise<IndexRecord | null>;
  /** Ready indexes with a replica on one of these nodes (in one of these states, when given); at most 500. */
  abstract listWithReplicaOn(nodeIds: readonly string[], states?: readonly ReplicaState[]): Promise<IndexRecord[]>;
  /** The ids of every index with a replica row on the node, whatever its state. */
  abstract indexIdsOn(nodeId: string): Promise<Set<string>>;
  /** Records a replica (idempotent per index and node); false when the index no longer exists. */
  abstract addReplica(indexId: string, nodeId: string, state: ReplicaState): Promise<boolean>;
  abstract setReplicaState(indexId: string, nodeId: string, state: ReplicaState): Promise<void>;
  abstract removeReplica(indexId: string, nodeId: string): Promise<void>;
  /**
   * Runs the task unless another gateway runs one under the same lock (a Postgres advisory lock held for the
   * task's duration); false when the lock was taken.
   */
  abstract exclusively(lock: string, task: () => Promise<void>): Promise<boolean>;
  /** Indexes left in one of these states since before the given time (interrupted creations and deletions). */
  abstract listStuck(states: readonly IndexState[], updatedBefore: Date): Promise<IndexRecord[]>;
}

type Row = VectorIndex & { replicas: { nodeId: string; state: string; createdAt: Date }[] };
const withReplicas = { replicas: { orderBy: [{ createdAt: 'asc' as const }, { nodeId: 'asc' as const }] } };

function toRecord(row: Row): IndexRecord {
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
    replicas: row.replicas.map((replica): ReplicaRecord => ({ nodeId: replica.nodeId, state: replica.state as ReplicaState })),
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
          replicas: { create: index.replicas.map((replica) => ({ nodeId: replica.nodeId, state: replica.state })) },
        },
        include: withReplicas,
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
    const row = await this.prisma.vectorIndex.findUnique({ where: { projectId_name: { projectId, name } }, include: withReplicas });
    return row ? toRecord(row) : null;
  }

  async listByProject(projectId: string): Promise<IndexRecord[]> {
    const rows = await this.prisma.vectorIndex.findMany({ where: { projectId }, orderBy: { name: 'asc' }, include: withReplicas });
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
    if (!result[0]) return null;
    return this.findById(id);
  }

  async delete(id: string): Promise<void> {
    await this.prisma.vectorIndex.deleteMany({ where: { id } });
  }

  async listStuck(states: readonly IndexState[], updatedBefore: Date): Promise<IndexRecord[]> {
    const rows = await this.prisma.vectorIndex.findMany({
      where: { state: { in: [...states] }, updatedAt: { lt: updatedBefore } },
      orderBy: { updatedAt: 'asc' },
      take: 100,
      include: withReplicas,
    });
    return rows.map(toRecord);
  }

  async countByNode(): Promise<Map<string, number>> {
    const groups = await this.prisma.indexReplica.groupBy({ by: ['nodeId'], _count: { _all: true } });
    return new Map(groups.map((group) => [group.nodeId, group._count._all]));
  }

  async findById(id: string): Promise<IndexRecord | null> {
    const row = await this.prisma.vectorIndex.findUnique({ where: { id }, include: withReplicas });
    return row ? toRecord(row) : null;
  }

  async listWithReplicaOn(nodeIds: readonly string[], states?: readonly ReplicaState[]): Promise<IndexRecord[]> {
    const rows = await this.prisma.vectorIndex.findMany({
      where: { state: 'Ready', replicas: { some: { nodeId: { in: [...nodeIds] }, ...(states ? { state: { in: [...states] } } : {}) } } },
      orderBy: { createdAt: 'asc' },
      take: 500,
      include: withReplicas,
    });
    return rows.map(toRecord);
  }

  async indexIdsOn(nodeId: string): Promise<Set<string>> {
    const rows = await this.prisma.indexReplica.findMany({ where: { nodeId }, select: { indexId: true } });
    return new Set(rows.map((row) => row.indexId));
  }

  async addReplica(indexId: string, nodeId: string, state: ReplicaState): Promise<boolean> {
    try {
      await this.prisma.indexReplica.createMany({ data: [{ indexId, nodeId, state }], skipDuplicates: true });
      return true;
    } catch (error) {
      // The index was deleted meanwhile (foreign key).
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2003') return false;
      throw error;
    }
  }

  async setReplicaState(indexId: string, nodeId: string, state: ReplicaState): Promise<void> {
    await this.prisma.indexReplica.updateMany({ where: { indexId, nodeId }, data: { state } });
  }

  async removeReplica(indexId: string, nodeId: string): Promise<void> {
    await this.prisma.indexReplica.deleteMany({ where: { indexId, nodeId } });
  }

  async exclusively(lock: string, task: () => Promise<void>): Promise<boolean> {
    // A transaction-scoped advisory lock: released by the commit, or by Postgres if this gateway dies.
    return this.prisma.$transaction(
      async (tx) => {
        const [row] = await tx.$queryRaw<{ locked: boolean }[]>`SELECT pg_try_advisory_xact_lock(hashtext(${lock})) AS locked`;
        if (!row?.locked) return false;
        await task();
        return true;
      },
      { maxWait: 5_000, timeout: 120_000 },
    );
  }
}
