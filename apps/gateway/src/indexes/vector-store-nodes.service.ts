// The vector-store nodes this gateway routes to: registered from config at start (upsert by URL), their status
// polled every CONIFER_NODE_POLL_MS (GET /internal/indexes: health, the node's log kind, each replica's applied
// log sequence and whether it is caught up), one keep-alive client per node, readiness "vector-store" (ready
// when at least one node answers), and placement of new indexes' replicas.
//
// Liveness: a node is routable while it answers; a refused or reset connection (a request's or a poll's) takes
// it out of routing at once, and a node whose polls go unanswered (time-outs) for CONIFER_NODE_DOWN_AFTER_MS is
// down. ReplicaRepair re-creates the replicas of a node down for that long elsewhere.
import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import { UnavailableError } from '@conifer/contracts';
import { isUnavailableFailure, VectorStoreClients, type StoreReplicaStatus, type VectorStoreClient } from '@conifer/store-client';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG, SECRETS } from '../config/runtime.js';
import { ReadinessService } from '../health/readiness.service.js';
import { IndexesRepository } from './indexes.repository.js';
import { chooseReplicaNodes } from './placement.js';
import { VectorStoreNodesRepository, type NodeRecord } from './vector-store-nodes.repository.js';

const INITIAL_CHECK_WAIT_MS = 2_000;
/** The catalog's node row (state, last_seen_at) is written on a change, else at most this often. */
const RECORD_EVERY_MS = 5_000;

export interface StoreNode {
  readonly id: string;
  readonly url: string;
  /** Routable: answered its last poll (or request) and no connection to it failed since. */
  live: boolean;
  /** Listed in this gateway's CONIFER_VECTOR_STORE_URLS: new indexes are placed only on such nodes. */
  configured: boolean;
  /** Marked for draining (catalog): no new replicas; repair moves its replicas away. */
  draining: boolean;
  /** The node's log as its last status said; undefined until it answered one. */
  log: 'local' | 'jetstream' | undefined;
  /** Date.now() of the last answered poll; 0: none since this gateway started. */
  lastAnswerAt: number;
  /** Its replicas as the last status reported them, by index id. */
  replicas: ReadonlyMap<string, StoreReplicaStatus>;
  /** Data-plane requests in flight from this gateway (least-outstanding read routing). */
  outstanding: number;
  readonly client: VectorStoreClient;
}

@Injectable()
export class VectorStoreNodes implements OnModuleInit, OnApplicationShutdown {
  private readonly clients: VectorStoreClients;
  private readonly nodes = new Map<string, StoreNode>();
  private readonly recordedAt = new Map<string, { live: boolean; at: number }>();
  private readonly startedAt = Date.now();
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
    this.clients = new VectorStoreClients(
      {
        internalToken: secrets.internalToken,
        timeoutMs: config.gateway.upstreamTimeoutMs,
        protocol: config.gateway.vectorStoreProtocol,
      },
      config.gateway.vectorStoreSockets,
    );
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
    }, this.config.gateway.nodePollMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await this.clients.closeAll();
  }

  /** The node (with its client) of a catalogued replica; reloads the node list once for a node added elsewhere. */
  async node(nodeId: string): Promise<StoreNode> {
    let node = this.nodes.get(nodeId);
    if (!node) {
      await this.reload();
      node = this.nodes.get(nodeId);
    }
    if (!node) throw new UnavailableError('The vector store holding this index is not registered; try again shortly');
    return node;
  }

  /** A known node, without reloading. */
  known(nodeId: string): StoreNode | undefined {
    return this.nodes.get(nodeId);
  }

  list(): StoreNode[] {
    return [...this.nodes.values()];
  }

  /**
   * The nodes for a new index's replicas (of this gateway's configured ones): up to `wanted`, each a different
   * live node, fewest replicas first; more than one only on JetStream nodes (placement.ts).
   */
  async place(wanted = 1): Promise<StoreNode[]> {
    const candidates = this.list().filter((node) => node.configured);
    if (!candidates.some((node) => node.live && !node.draining)) {
      // All down at the last check: look again now rather than wait for the next round.
      await (this.checking ?? (this.checking = this.checkAll()));
    }
    const counts = await this.indexes.countByNode();
    const chosen = chooseReplicaNodes(
      candidates.map((node) => ({ node, id: node.id, live: node.live, draining: node.draining, log: node.log, indexCount: counts.get(node.id) ?? 0 })),
      wanted,
    );
    if (chosen.length === 0) throw new UnavailableError('No vector-store node is available; try again shortly');
    return chosen.map((choice) => choice.node);
  }

  /** Marks a node down right away (a connection to it failed); the next answered poll brings it back. */
  markDown(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    if (node?.live) {
      node.live = false;
      this.logger.warn({ node: node.url }, 'vector-store node unavailable');
    }
  }

  /** How long the node has been without an answer (0 while it answers). */
  silentForMs(node: StoreNode, now = Date.now()): number {
    if (node.live) return 0;
    return now - Math.max(node.lastAnswerAt, this.startedAt);
  }

  /** Picks up nodes registered by other gateways and the draining marks. */
  async reload(): Promise<void> {
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
        draining: record.draining,
        log: undefined,
        lastAnswerAt: 0,
        replicas: new Map(),
        outstanding: 0,
        client: this.clients.for(record.url),
      };
      this.nodes.set(record.id, node);
    }
    node.draining = record.draining;
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
      await Promise.all(this.list().map((node) => this.poll(node)));
    } finally {
      this.checking = undefined;
    }
  }

  private async poll(node: StoreNode): Promise<void> {
    const { nodePollMs, nodeDownAfterMs, upstreamTimeoutMs } = this.config.gateway;
    const now = Date.now();
    let live: boolean;
    try {
      const status = await node.client.status(Math.min(upstreamTimeoutMs, Math.max(1_000, nodePollMs * 2)));
      node.log = status.log;
      node.replicas = new Map(status.indexes.map((replica) => [replica.indexId, replica]));
      node.lastAnswerAt = Date.now();
      live = true;
    } catch (error) {
      // Refused or reset: the process is gone, stop routing to it now. A time-out only counts once the node has
      // been silent for the down-after period (a slow answer under load is not an outage).
      const refused = isUnavailableFailure(error) && !isTimeout(error);
      live = node.live && !refused && now - Math.max(node.lastAnswerAt, this.startedAt) < nodeDownAfterMs;
    }
    if (live !== node.live) {
      this.logger[live ? 'info' : 'warn']({ node: node.url }, live ? 'vector-store node is live' : 'vector-store node is down');
    }
    node.live = live;
    const recorded = this.recordedAt.get(node.id);
    if (recorded?.live === live && now - recorded.at < RECORD_EVERY_MS) return;
    this.recordedAt.set(node.id, { live, at: now });
    await this.repository.recordHealth(node.id, live ? 'live' : 'down', live ? new Date() : null).catch((error) => {
      this.logger.debug({ err: (error as Error).message }, 'could not record vector-store node health');
    });
  }
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT') return true;
  }
  return false;
}
