// Repair of replicated indexes (issue 17), run by one gateway at a time (a Postgres advisory lock):
// - a node silent for CONIFER_NODE_DOWN_AFTER_MS: each replicated index with a replica on it gets a replacement
//   on another live JetStream node (recorded "creating", created there — it starts from the newest snapshot and
//   the log after it — then "active"), and the dead node's replica row goes;
// - a draining node: each of its replicas gets a replacement, its own row turns "leaving" (still served), and
//   goes once the replacement reports itself caught up; its node is then told to drop its copy;
// - a node that answers again holding a replica the catalog no longer has (replaced while it was down, or its
//   index deleted meanwhile) is told to drop it (never with purge: the shared log belongs to the index);
// - a node that answers without a replica the catalog places on it (restarted with an empty disk before it was
//   replaced) is told to create it again: it restores from the newest snapshot and the log after it.
// An index on a node with a local log has its only copy there: it is never moved, it waits for its node.
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import type { IndexRecord } from './index-model.js';
import { IndexRoutes } from './index-routes.js';
import { IndexesRepository } from './indexes.repository.js';
import { chooseReplacement } from './placement.js';
import { VectorStoreNodes, type StoreNode } from './vector-store-nodes.service.js';

const LOCK = 'conifer:replica-repair';

export interface RepairOutcome {
  /** Replacement replicas created. */
  readonly replaced: number;
  /** Replicas removed from draining nodes once their replacement caught up. */
  readonly drained: number;
  /** Copies dropped on nodes the catalog no longer places them on. */
  readonly dropped: number;
  /** Replicas created again on a node that had lost them. */
  readonly restored: number;
}

@Injectable()
export class ReplicaRepair implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(IndexesRepository) private readonly indexes: IndexesRepository,
    @Inject(VectorStoreNodes) private readonly nodes: VectorStoreNodes,
    @Inject(IndexRoutes) private readonly routes: IndexRoutes,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.min(5_000, Math.max(500, Math.floor(this.config.gateway.nodeDownAfterMs / 2)));
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .catch((error) => this.logger.warn({ err: (error as Error).message }, 'replica repair failed'))
        .finally(() => (this.running = undefined));
    }, every);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One round: finds the work from this gateway's view of the nodes, then does it under the lock. */
  async sweep(now = Date.now()): Promise<RepairOutcome | null> {
    await this.nodes.reload();
    const nodes = this.nodes.list();
    const downAfter = this.config.gateway.nodeDownAfterMs;
    // Only nodes on the shared log can have their replicas re-created (a local log's index waits for its node);
    // a node not heard from since this gateway started counts when the cluster runs on JetStream at all.
    const shared = nodes.some((node) => node.log === 'jetstream');
    const down = nodes.filter(
      (node) => !node.live && this.nodes.silentForMs(node, now) >= downAfter && (node.log === 'jetstream' || (node.log === undefined && shared)),
    );
    const draining = nodes.filter((node) => node.draining);
    const reporting = nodes.filter((node) => node.live && node.log === 'jetstream');
    if (down.length === 0 && draining.length === 0 && reporting.length === 0) return null;
    let outcome: RepairOutcome | null = null;
    await this.indexes.exclusively(LOCK, async () => {
      let replaced = down.length > 0 ? await this.replaceOn(down, true) : 0;
      let drained = 0;
      if (draining.length > 0) {
        replaced += await this.replaceOn(draining, false);
        drained = await this.finishDrains(draining);
      }
      outcome = { replaced, drained, dropped: await this.dropStrays(reporting), restored: await this.restoreMissing(reporting) };
    });
    const done = outcome as RepairOutcome | null;
    if (done && done.replaced + done.drained + done.dropped + done.restored > 0) this.logger.info(done, 'repaired replicas');
    return done;
  }

  /** A replacement for each replicated index's replica on these nodes; `remove`: the old row goes at once. */
  private async replaceOn(from: readonly StoreNode[], remove: boolean): Promise<number> {
    const ids = new Set(from.map((node) => node.id));
    let replaced = 0;
    // Draining: only replicas still active there (those already moving are "leaving"), so that a node with more
    // indexes than one listing holds gets through them over successive rounds.
    for (const record of await this.indexes.listWithReplicaOn([...ids], remove ? undefined : ['active'])) {
      const old = record.replicas.filter((replica) => ids.has(replica.nodeId) && (remove || replica.state === 'active'));
      for (const replica of old) {
        if (!this.replicated(record, replica.nodeId)) continue;
        const holding = new Set(record.replicas.map((r) => r.nodeId));
        const target = await this.placeReplacement(holding);
        // Nowhere to go (every other JetStream node holds it already, or none is live): keep the replica
        // where it is; its node may come back.
        if (!target) continue;
        if (!(await this.indexes.addReplica(record.id, target.id, 'creating'))) break;
        try {
          await target.client.createIndex(record.id, { dimension: record.dimension, metric: record.metric, vectorType: record.vectorType, schema: record.schema });
        } catch (error) {
          await this.indexes.removeReplica(record.id, target.id);
          this.logger.warn({ indexId: record.id, node: target.url, err: (error as Error).message }, 'replacement replica not created');
          continue;
        }
        await this.indexes.setReplicaState(record.id, target.id, 'active');
        if (remove) await this.indexes.removeReplica(record.id, replica.nodeId);
        else await this.indexes.setReplicaState(record.id, replica.nodeId, 'leaving');
        this.routes.evict(record.projectId, record.name);
        this.logger.info({ indexId: record.id, from: replica.nodeId, to: target.url }, remove ? 'replica replaced' : 'replica moving off a draining node');
        holding.add(target.id);
        replaced++;
      }
    }
    return replaced;
  }

  /** Drops a draining node's "leaving" replicas once another replica has caught up with it. */
  private async finishDrains(draining: readonly StoreNode[]): Promise<number> {
    const ids = new Set(draining.map((node) => node.id));
    let drained = 0;
    for (const record of await this.indexes.listWithReplicaOn([...ids], ['leaving'])) {
      for (const replica of record.replicas) {
        if (!ids.has(replica.nodeId) || replica.state !== 'leaving') continue;
        const leaving = this.nodes.known(replica.nodeId);
        const applied = leaving?.replicas.get(record.id)?.appliedSeq ?? 0;
        const caughtUp = record.replicas.some((other) => {
          if (other.nodeId === replica.nodeId || other.state !== 'active') return false;
          const status = this.nodes.known(other.nodeId)?.replicas.get(record.id);
          return status !== undefined && status.state === 'ready' && (status.appliedSeq ?? 0) >= applied;
        });
        if (!caughtUp) continue;
        await this.indexes.removeReplica(record.id, replica.nodeId);
        this.routes.evict(record.projectId, record.name);
        await leaving?.client.deleteIndex(record.id).catch(() => undefined);
        drained++;
      }
    }
    return drained;
  }

  /** Copies reported by JetStream nodes that the catalog does not place there: dropped (without purge). */
  private async dropStrays(reporting: readonly StoreNode[]): Promise<number> {
    let dropped = 0;
    for (const node of reporting) {
      const placed = await this.indexes.indexIdsOn(node.id);
      for (const indexId of node.replicas.keys()) {
        if (placed.has(indexId)) continue;
        const record = await this.indexes.findById(indexId);
        // Still being created or deleted, or placed there after all: not a stray.
        if (record && (record.state !== 'Ready' || record.replicas.some((replica) => replica.nodeId === node.id))) continue;
        try {
          await node.client.deleteIndex(indexId);
          dropped++;
          this.logger.info({ indexId, node: node.url }, record ? 'dropped a replaced replica' : 'dropped the replica of a deleted index');
        } catch (error) {
          this.logger.debug({ indexId, node: node.url, err: (error as Error).message }, 'stray replica not dropped yet');
        }
      }
    }
    return dropped;
  }

  /** Replicas the catalog places on a JetStream node that the node's last status does not list: created again. */
  private async restoreMissing(reporting: readonly StoreNode[]): Promise<number> {
    let restored = 0;
    for (const node of reporting) {
      for (const indexId of await this.indexes.indexIdsOn(node.id)) {
        if (node.replicas.has(indexId)) continue;
        const record = await this.indexes.findById(indexId);
        const replica = record?.replicas.find((r) => r.nodeId === node.id);
        // Being created (index or replica) or deleted: its creator or the reconciliation finishes it.
        if (!record || record.state !== 'Ready' || !replica || replica.state === 'creating') continue;
        try {
          await node.client.createIndex(record.id, { dimension: record.dimension, metric: record.metric, vectorType: record.vectorType, schema: record.schema });
          restored++;
          this.logger.info({ indexId, node: node.url }, 'replica created again on a node that had lost it');
        } catch (error) {
          this.logger.debug({ indexId, node: node.url, err: (error as Error).message }, 'lost replica not created again yet');
        }
      }
    }
    return restored;
  }

  /** Whether the index's log is shared (JetStream), so that a replica can be re-created on another node. */
  private replicated(record: IndexRecord, nodeId: string): boolean {
    return record.replicas.some((replica) => this.nodes.known(replica.nodeId)?.log === 'jetstream') || this.nodes.known(nodeId)?.log === 'jetstream';
  }

  private async placeReplacement(holding: ReadonlySet<string>): Promise<StoreNode | undefined> {
    const counts = await this.indexes.countByNode();
    const candidates = this.nodes
      .list()
      .map((node) => ({ node, id: node.id, live: node.live, draining: node.draining, log: node.log, indexCount: counts.get(node.id) ?? 0 }));
    return chooseReplacement(candidates, holding)?.node;
  }
}
