// Per-request resolution of (project, index name) to the index id and its replicas' nodes, cached in-process so a warm
// data-plane request touches no database. Entries live ROUTE_TTL_MS (a miss NEGATIVE_TTL_MS); this replica
// evicts at once on configure and delete, other replicas within the TTL (meanwhile the node answers 404 for a
// deleted index id, so a stale entry can never reach another index's data).
import { Inject, Injectable } from '@nestjs/common';
import { UnavailableError } from '@conifer/contracts';
import { IndexesRepository } from './indexes.repository.js';
import type { IndexState } from './index-request.js';
import { VectorStoreNodes, type StoreNode } from './vector-store-nodes.service.js';

const ROUTE_TTL_MS = 5_000;
const NEGATIVE_TTL_MS = 1_000;
const MAX_ENTRIES = 50_000;

export interface IndexRoute {
  readonly indexId: string;
  readonly projectId: string;
  readonly name: string;
  readonly state: IndexState;
  /** The first replica's node: the only one when the index has a single replica (the common, fast case). */
  readonly node: StoreNode;
  /** Every serving replica's node (replicas still being created by repair are left out). */
  readonly replicas: readonly StoreNode[];
}

interface Entry {
  readonly route: IndexRoute | null;
  readonly expiresAt: number;
}

@Injectable()
export class IndexRoutes {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<IndexRoute | null>>();
  /** Bumped by every eviction: a load that started before it must not fill the cache. */
  private generation = 0;

  constructor(
    @Inject(IndexesRepository) private readonly indexes: IndexesRepository,
    @Inject(VectorStoreNodes) private readonly nodes: VectorStoreNodes,
  ) {}

  /** The route of the index, or null when the project has no index of that name. */
  resolve(projectId: string, name: string): IndexRoute | null | Promise<IndexRoute | null> {
    const key = `${projectId}/${name}`;
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > Date.now()) return entry.route;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.load(key, projectId, name).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
    }
    return pending;
  }

  evict(projectId: string, name: string): void {
    const key = `${projectId}/${name}`;
    this.generation++;
    this.entries.delete(key);
    this.loading.delete(key);
  }

  private async load(key: string, projectId: string, name: string): Promise<IndexRoute | null> {
    const generation = this.generation;
    const record = await this.indexes.findByName(projectId, name);
    let route: IndexRoute | null = null;
    if (record) {
      const serving = record.replicas.filter((replica) => replica.state !== 'creating');
      const replicas = await Promise.all((serving.length > 0 ? serving : record.replicas).map((replica) => this.nodes.node(replica.nodeId)));
      if (replicas.length === 0) throw new UnavailableError(`Index ${name} has no replica; try again shortly`);
      route = { indexId: record.id, projectId, name, state: record.state, node: replicas[0]!, replicas };
    }
    if (generation === this.generation) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, { route, expiresAt: Date.now() + (route ? ROUTE_TTL_MS : NEGATIVE_TTL_MS) });
    }
    return route;
  }
}
