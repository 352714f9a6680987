// The vector-store nodes this gateway routes to: registered from config at start (upsert by URL), health
// checked periodically (state live/down and last_seen_at in the catalog), one keep-alive client per node,
// readiness "vector-store" (ready when at least one node answers), and placement of new indexes.
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { UnavailableError } from '@conifer/contracts';
import { VectorStoreClients, type VectorStoreClient } from '@conifer/store-client';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG, SECRETS } from '../config/runtime.js';
import { ReadinessService } from '../health/readiness.service.js';
import { IndexesRepository } from './indexes.repository.js';
import { chooseNode } from './placement.js';
import { VectorStoreNodesRepository, type NodeRecord } from './vector-store-nodes.repository.js';

const NODE_HEALTH_INTERVAL_MS = 5_000;
const INITIAL_CHECK_WAIT_MS = 2_000;

export interface StoreNode {
  readonly id: string;
  readonly url: string;
  live: boolean;
  /** Listed in this gateway's CONIFER_VECTOR_STORE_URLS: new indexes are placed only on such nodes. */
  configured: boolean;
  readonly client: VectorStoreClient;
}

@Injectable()
export class VectorStoreNodes implements OnModuleInit, OnApplicationShutdown {
  private readonly clients: VectorStoreClients;
  private readonly nodes = new Map<string, StoreNode>();
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(SECRETS) secrets: ResolvedSecrets,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(VectorStoreNodesRepository) private readonly repository: VectorStoreNodesRepository,
    @Inject(IndexesRepository) private readonly indexes: IndexesRepository,
    @Inject(ReadinessService) private readonly readiness: ReadinessService,
  ) {
    this.clients = new VectorStoreClients({
      internalToken: secrets.internalToken,
      timeoutMs: config.gateway.upstreamTimeoutMs,
    });
  }

  async onModuleInit(): Promise<void> {
    for (const url of this.config.gateway.vectorStoreUrls) await this.repository.register(url);
    await this.reload();
    this.readiness.register('vector-store', () => this.anyNodeAnswers());
    this.checking = this.checkAll();
    // Start with fresh node states for placement, but never let an unreachable node hold up start-up for long.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.checking, new Promise((resolve) => (timer = setTimeout(resolve, INITIAL_CHECK_WAIT_MS)))]);
    clearTimeout(timer);
    this.timer = setInterval(() => {
      if (!this.checking) this.checking = this.checkAll();
    }, NODE_HEALTH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await this.clients.closeAll();
  }

  /** The node (with its client) of a catalogued index; reloads the node list once for a node added elsewhere. */
  async node(nodeId: string): Promise<StoreNode> {
    let node = this.nodes.get(nodeId);
    if (!node) {
      await this.reload();
      node = this.nodes.get(nodeId);
    }
    if (!node) throw new UnavailableError('The vector store holding this index is not registered; try again shortly');
    return node;
  }

  list(): StoreNode[] {
    return [...this.nodes.values()];
  }

  /** The least loaded live node (of this gateway's configured ones) for a new index. */
  async place(): Promise<StoreNode> {
    const candidates = this.list().filter((node) => node.configured);
    if (!candidates.some((node) => node.live)) {
      // All down at the last check: look again now rather than wait for the next round.
      await (this.checking ?? (this.checking = this.checkAll()));
    }
    const counts = await this.indexes.countByNode();
    const chosen = chooseNode(candidates.map((node) => ({ node, id: node.id, live: node.live, indexCount: counts.get(node.id) ?? 0 })));
    if (!chosen) throw new UnavailableError('No vector-store node is available; try again shortly');
    return chosen.node;
  }

  /** Marks a node down right away (a request to it failed); the health loop brings it back. */
  markDown(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (node?.live) {
      node.live = false;
      this.logger.warn({ node: node.url }, 'vector-store node unavailable');
    }
  }

  private async reload(): Promise<void> {
    for (const record of await this.repository.list()) this.track(record);
  }

  private track(record: NodeRecord): StoreNode {
    let node = this.nodes.get(record.id);
    if (!node) {
      node = {
        id: record.id,
        url: record.url,
        live: record.state === 'live',
        configured: this.config.gateway.vectorStoreUrls.includes(record.url),
        client: this.clients.for(record.url),
      };
      this.nodes.set(record.id, node);
    }
    return node;
  }

  /** Readiness: at least one of this gateway's configured nodes answers /healthz now. */
  private async anyNodeAnswers(): Promise<void> {
    const nodes = this.list().filter((node) => node.configured);
    if (nodes.length === 0) throw new Error('no vector-store node is configured');
    await Promise.any(nodes.map((node) => node.client.checkHealth())).catch(() => {
      throw new Error(`none of ${nodes.length} vector-store node(s) answers`);
    });
  }

  private async checkAll(): Promise<void> {
    try {
      await Promise.all(
        this.list().map(async (node) => {
          let live = true;
          try {
            await node.client.checkHealth();
          } catch {
            live = false;
          }
          if (live !== node.live) {
            this.logger[live ? 'info' : 'warn']({ node: node.url }, live ? 'vector-store node is live' : 'vector-store node is down');
          }
          node.live = live;
          await this.repository.recordHealth(node.id, live ? 'live' : 'down', live ? new Date() : null).catch((error) => {
            this.logger.debug({ err: (error as Error).message }, 'could not record vector-store node health');
          });
        }),
      );
    } finally {
      this.checking = undefined;
    }
  }
}
