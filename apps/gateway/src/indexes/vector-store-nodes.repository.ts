// The vector-store nodes known to the catalog (table `vector_store_nodes`), registered by URL at start-up.
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';

export type NodeState = 'live' | 'down';

export interface NodeRecord {
  readonly id: string;
  readonly url: string;
  readonly state: NodeState;
  readonly lastSeenAt: Date | null;
  /** Marked for draining: placement skips it and repair moves its replicas to other nodes. */
  readonly draining: boolean;
}

export abstract class VectorStoreNodesRepository {
  /** Registers the node (idempotent by URL) and returns it. */
  abstract register(url: string): Promise<NodeRecord>;
  abstract list(): Promise<NodeRecord[]>;
  /** Records a health-check result; lastSeenAt only moves when the node answered. */
  abstract recordHealth(id: string, state: NodeState, seenAt: Date | null): Promise<void>;
  /** Marks the node (by URL) for draining or not; null when no node has that URL. */
  abstract setDraining(url: string, draining: boolean): Promise<NodeRecord | null>;
}

function toRecord(row: { id: string; url: string; state: string; lastSeenAt: Date | null; draining: boolean }): NodeRecord {
  return { id: row.id, url: row.url, state: row.state as NodeState, lastSeenAt: row.lastSeenAt, draining: row.draining };
}

@Injectable()
export class PrismaVectorStoreNodesRepository extends VectorStoreNodesRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {
    super();
  }

  async register(url: string): Promise<NodeRecord> {
    // INSERT … ON CONFLICT DO NOTHING: replicas starting together register the same URL without a race.
    await this.prisma.vectorStoreNode.createMany({ data: [{ id: randomUUID(), url }], skipDuplicates: true });
    const row = await this.prisma.vectorStoreNode.findUniqueOrThrow({ where: { url } });
    return toRecord(row);
  }

  async list(): Promise<NodeRecord[]> {
    const rows = await this.prisma.vectorStoreNode.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toRecord);
  }

  async recordHealth(id: string, state: NodeState, seenAt: Date | null): Promise<void> {
    await this.prisma.vectorStoreNode.updateMany({
      where: { id },
      data: seenAt ? { state, lastSeenAt: seenAt } : { state },
    });
  }

  async setDraining(url: string, draining: boolean): Promise<NodeRecord | null> {
    const rows = await this.prisma.vectorStoreNode.updateManyAndReturn({ where: { url: url.replace(/\/+$/, '') }, data: { draining } });
    return rows[0] ? toRecord(rows[0]) : null;
  }
}
