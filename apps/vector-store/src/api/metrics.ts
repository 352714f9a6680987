// Prometheus metrics (prom-client), on a registry of our own so that tests can build several servers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IndexRegistry } from '../storage/index-registry.js';

export class StoreMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly queries: Counter<'plan'>;

  /** method → route → status → child of requestDuration, and plan → child of queries: no label object per request. */
  private readonly durations = new Map<string, Map<string, Map<number, { observe(seconds: number): void }>>>();
  private readonly queriesByPlan = new Map<string, { inc(): void }>();

  /** Open framed connections from gateways (issue 13), read when scraped. */
  watchFramedConnections(count: () => number): void {
    new Gauge({
      name: 'conifer_store_framed_connections',
      help: 'Open framed (conifer-frames/1) connections from gateways',
      registers: [this.registry],
      collect() {
        this.set(count());
      },
    });
  }

  constructor(indexes: IndexRegistry, defaults = false) {
    if (defaults) collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'conifer_store_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [this.registry],
    });
    this.queries = new Counter({
      name: 'conifer_store_queries_total',
      help: 'Queries by plan',
      labelNames: ['plan'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'conifer_store_indexes',
      help: 'Indexes held by this node',
      registers: [this.registry],
      collect() {
        this.set(indexes.list().length);
      },
    });
    new Gauge({
      name: 'conifer_store_vectors',
      help: 'Live vectors held by this node',
      registers: [this.registry],
      collect() {
        this.set(indexes.list().reduce((n, i) => n + i.index.totalVectorCount, 0));
      },
    });
    new Gauge({
      name: 'conifer_store_ann_pending_vectors',
      help: 'Vectors not yet in an ANN index (searched exactly meanwhile)',
      registers: [this.registry],
      collect() {
        this.set(indexes.pendingAnnVectors());
      },
    });
    new Gauge({
      name: 'conifer_store_wal_bytes',
      help: 'Bytes in the current write-ahead logs',
      registers: [this.registry],
      collect() {
        this.set(indexes.list().reduce((n, i) => n + i.walBytes, 0));
      },
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.durations.get(method);
    if (byRoute === undefined) this.durations.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (byStatus === undefined) byRoute.set(route, (byStatus = new Map()));
    let child = byStatus.get(status);
    if (child === undefined) byStatus.set(status, (child = this.requestDuration.labels(method, route, String(status))));
    child.observe(seconds);
  }

  countQuery(plan: string): void {
    let child = this.queriesByPlan.get(plan);
    if (child === undefined) this.queriesByPlan.set(plan, (child = this.queries.labels(plan)));
    child.inc();
  }
}
