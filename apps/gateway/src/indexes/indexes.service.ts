// The control plane's rules: create (validate, place CONIFER_INDEX_REPLICAS replicas on the least loaded live
// nodes, create it on each, then Ready), list, describe, configure (deletion protection, merged tags), delete
// (deletion protection → 403; every replica dropped, the shared log purged once, then the catalog row). Another project's index, or one outside the key's index
// scope, is answered exactly like a missing one (404); creating a name outside the scope is refused (403).
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import {
  ForbiddenError,
  indexModelShape,
  NotFoundError,
  PermissionDeniedError,
  UnavailableError,
  type ApiVersion,
  type IndexModelShape,
  type RequestedApiVersion,
  type IndexSettings,
} from '@conifer/contracts';
import { StoreResponseError } from '@conifer/store-client';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';
import { indexHost } from './index-host.js';
import { renderIndexModelAs, type AnyIndexModel, type IndexRecord } from './index-model.js';
import { mergeTags, parseConfigureIndexRequest, parseCreateIndexRequest } from './index-request.js';
import { parseConfigureIndexRequest202607, parseCreateIndexRequest202607 } from './index-schema-request.js';
import { IndexRoutes } from './index-routes.js';
import { IndexesRepository } from './indexes.repository.js';
import { ProjectIndexRemover } from '../tenants/project-index-remover.js';
import { VectorStoreNodes, type StoreNode } from './vector-store-nodes.service.js';

/** An index still Initializing or Terminating this long after its last change was interrupted (crash, outage). */
const STUCK_AFTER_MS = 60_000;
const RECONCILE_INTERVAL_MS = 60_000;

/** Who asks: the API key's project and index scope (empty scope: every index). */
export interface IndexCaller {
  readonly projectId: string;
  readonly indexScope: readonly string[];
}

@Injectable()
export class IndexesService extends ProjectIndexRemover implements OnApplicationBootstrap, OnApplicationShutdown {
  private reconcileTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(IndexesRepository) private readonly indexes: IndexesRepository,
    @Inject(VectorStoreNodes) private readonly nodes: VectorStoreNodes,
    @Inject(IndexRoutes) private readonly routes: IndexRoutes,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const run = () => void this.reconcile().catch((error) => this.logger.warn({ err: (error as Error).message }, 'index reconciliation failed'));
    run();
    this.reconcileTimer = setInterval(run, RECONCILE_INTERVAL_MS);
    this.reconcileTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.reconcileTimer);
  }

  /**
   * Finishes creations and deletions that were interrupted (a gateway crash between the catalog row and the
   * node, a node down during a delete): both node calls are idempotent, so any replica may run this.
   */
  async reconcile(now = new Date()): Promise<{ ready: number; removed: number }> {
    const stuck = await this.indexes.listStuck(['Initializing', 'Terminating'], new Date(now.getTime() - STUCK_AFTER_MS));
    let ready = 0;
    let removed = 0;
    for (const record of stuck) {
      try {
        if (record.state === 'Terminating') {
          await this.remove(record);
          removed++;
        } else {
          const nodes = await Promise.all(record.replicas.map((replica) => this.nodes.node(replica.nodeId)));
          await Promise.all(nodes.map((node) => node.client.createIndex(record.id, storeSettings(record))));
          await this.indexes.update(record.id, { state: 'Ready' });
          this.routes.evict(record.projectId, record.name);
          ready++;
        }
      } catch (error) {
        this.logger.debug({ indexId: record.id, state: record.state, err: (error as Error).message }, 'index not reconciled yet');
      }
    }
    if (ready + removed > 0) this.logger.info({ ready, removed }, 'reconciled interrupted index operations');
    return { ready, removed };
  }

  async create(caller: IndexCaller, body: unknown, version: RequestedApiVersion | ApiVersion): Promise<AnyIndexModel> {
    const input = readsSchemaModel(indexModelShape(version), body, ['schema', 'deployment', 'read_capacity'])
      ? parseCreateIndexRequest202607(body)
      : parseCreateIndexRequest(body);
    if (!inScope(caller, input.name)) {
      throw new PermissionDeniedError(`This API key is not allowed to access index "${input.name}"`);
    }
    const nodes = await this.nodes.place(this.config.gateway.indexReplicas);
    const record = await this.indexes.insert({
      id: randomUUID(),
      projectId: caller.projectId,
      name: input.name,
      dimension: input.dimension,
      metric: input.metric,
      vectorType: input.vectorType,
      deletionProtection: input.deletionProtection,
      tags: input.tags,
      spec: input.spec,
      schema: input.schema,
      state: 'Initializing',
      replicas: nodes.map((node) => ({ nodeId: node.id, state: 'active' as const })),
    });
    this.routes.evict(caller.projectId, input.name);
    const created = await Promise.allSettled(nodes.map((node) => node.client.createIndex(record.id, storeSettings(record))));
    const failed = created.findIndex((outcome) => outcome.status === 'rejected');
    if (failed !== -1) {
      const error = (created[failed] as PromiseRejectedResult).reason as unknown;
      this.onNodeFailure(nodes[failed]!.id, error, 'index creation failed on the vector store');
      // Free the name so the caller can simply retry, after undoing the replicas that were created (best effort:
      // a leftover is dropped by repair once the node reports an index the catalog does not have).
      const made = nodes.filter((_node, i) => created[i]!.status === 'fulfilled');
      await Promise.all(made.map((node, i) => node.client.deleteIndex(record.id, { purge: i === made.length - 1 }).catch(() => undefined)));
      await this.indexes.delete(record.id);
      this.routes.evict(caller.projectId, input.name);
      throw error;
    }
    const ready = (await this.indexes.update(record.id, { state: 'Ready' })) ?? { ...record, state: 'Ready' as const };
    this.routes.evict(caller.projectId, input.name);
    return this.render(ready, version);
  }

  async list(caller: IndexCaller, version: RequestedApiVersion | ApiVersion): Promise<{ indexes: AnyIndexModel[] }> {
    const records = await this.indexes.listByProject(caller.projectId);
    return { indexes: records.filter((record) => inScope(caller, record.name)).map((record) => this.render(record, version)) };
  }

  async describe(caller: IndexCaller, name: string, version: RequestedApiVersion | ApiVersion): Promise<AnyIndexModel> {
    return this.render(await this.find(caller, name), version);
  }

  async configure(caller: IndexCaller, name: string, body: unknown, version: RequestedApiVersion | ApiVersion): Promise<AnyIndexModel> {
    const record = await this.find(caller, name);
    const changes = readsSchemaModel(indexModelShape(version), body, ['schema', 'deployment', 'read_capacity'])
      ? parseConfigureIndexRequest202607(body)
      : parseConfigureIndexRequest(body);
    const tags = changes.tags === undefined ? undefined : mergeTags(record.tags, changes.tags);
    if (changes.deletionProtection === undefined && tags === undefined) return this.render(record, version);
    const updated = await this.indexes.update(record.id, {
      ...(changes.deletionProtection === undefined ? {} : { deletionProtection: changes.deletionProtection }),
      ...(tags === undefined ? {} : { tags }),
    });
    this.routes.evict(caller.projectId, name);
    if (!updated) throw notFound(name);
    return this.render(updated, version);
  }

  async delete(caller: IndexCaller, name: string): Promise<void> {
    const record = await this.find(caller, name);
    if (record.deletionProtection) {
      throw new ForbiddenError('Deletion protection is enabled for this index. Disable deletion protection before retrying.');
    }
    await this.remove(record);
  }

  /** Forced project deletion: every index of the project goes, deletion protection notwithstanding. */
  async removeAllIndexes(projectId: string): Promise<number> {
    const records = await this.indexes.listByProject(projectId);
    for (const record of records) await this.remove(record);
    return records.length;
  }

  private async remove(record: IndexRecord): Promise<void> {
    // Terminating first: the data plane stops routing to it at once; a failed removal can simply be retried.
    if (record.state !== 'Terminating') await this.indexes.update(record.id, { state: 'Terminating' });
    this.routes.evict(record.projectId, record.name);
    const nodes = await Promise.all(record.replicas.map((replica) => this.nodes.node(replica.nodeId)));
    // One live replica purges the shared log and snapshots, after the others dropped their copies. With several
    // replicas, one on a node that is down is left to repair (it drops a replica the catalog no longer has when
    // its node answers again); a single replica's node must answer (its local log holds the only copy).
    const purger = nodes.find((node) => node.live) ?? nodes[0];
    const others = nodes.filter((node) => node !== purger && node.live);
    const drop = async (node: StoreNode, purge: boolean) => {
      try {
        await node.client.deleteIndex(record.id, { purge });
      } catch (error) {
        this.onNodeFailure(node.id, error, 'index deletion failed on the vector store');
        throw error;
      }
    };
    await Promise.all(others.map((node) => drop(node, false)));
    if (purger) await drop(purger, true);
    await this.indexes.delete(record.id);
    this.routes.evict(record.projectId, record.name);
  }

  private async find(caller: IndexCaller, name: string): Promise<IndexRecord> {
    const record = await this.indexes.findByName(caller.projectId, name);
    if (!record || !inScope(caller, name)) throw notFound(name);
    return record;
  }

  private render(record: IndexRecord, version: RequestedApiVersion | ApiVersion): AnyIndexModel {
    return renderIndexModelAs(indexModelShape(version), record, indexHost(this.config.gateway, record.projectId, record.name));
  }

  private onNodeFailure(nodeId: string, error: unknown, message: string): void {
    this.logger.warn({ nodeId, err: (error as Error).message, status: (error as StoreResponseError).status }, message);
    if (error instanceof UnavailableError && !(error instanceof StoreResponseError)) this.nodes.markDown(nodeId);
  }
}

/**
 * Which model a body is read in: the version's; without the header, the 2026-07 model when the body uses one of
 * its fields, else the classic one (the two share no field that would make this ambiguous).
 */
function readsSchemaModel(shape: IndexModelShape, body: unknown, schemaFields: readonly string[]): boolean {
  if (shape !== 'unversioned') return shape === 'schema';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  return schemaFields.some((field) => (body as Record<string, unknown>)[field] !== undefined);
}

/** What the node needs: the vector settings and, for the fields it indexes, the schema. */
function storeSettings(record: IndexRecord): IndexSettings {
  return { dimension: record.dimension, metric: record.metric, vectorType: record.vectorType, schema: record.schema };
}

function inScope(caller: IndexCaller, name: string): boolean {
  return caller.indexScope.length === 0 || caller.indexScope.includes(name);
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`Resource ${name} not found`);
}
