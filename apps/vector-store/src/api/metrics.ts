// Prometheus metrics (prom-client), on a registry of our own so that tests can build several servers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { IndexRegistry } from '../storage/index-registry.js';

/** How often the event-loop delay is sampled (the timer's lateness is the delay). */
const LOOP_SAMPLE_MS = 10;

export class StoreMetrics {
  readonly registry = new Registry();
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly queries: Counter<'plan'>;

  /** method → route → status → child of requestDuration, and plan → child of queries: no label object per request. */
  private readonly durations = new Map<string, Map<string, Map<number, { observe(seconds: number): void }>>>();
  private readonly queriesByPlan = new Map<string, { inc(): void }>();
  private loopTimer: NodeJS.Timeout | undefined;

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
    if (defaults) this.sampleEventLoopDelay();
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
      name: 'conifer_store_ann_calibrating',
      help: '1 while a published ANN graph waits for or is under its search-breadth calibration (searched with the rule meanwhile), else 0',
      registers: [this.registry],
      collect() {
        this.set(indexes.annCalibrated() ? 0 : 1);
      },
    });
    new Gauge({
      name: 'conifer_store_ann_graphs_held',
      help: 'Namespaces whose writable ANN graph the builder worker holds in memory (released once idle; queries use the published file)',
      registers: [this.registry],
      collect() {
        this.set(indexes.annGraphsHeld());
      },
    });
    // The search breadth calibrated per namespace graph (engine search/calibrate.ts), one series per index (not per
    // namespace, which clients create freely): the widest multiplier and the lowest recall estimate among its graphs.
    new Gauge({
      name: 'conifer_store_ann_breadth_scale',
      help: 'Largest calibrated multiplier of the graph-search breadth rule among the index namespaces (1: the rule)',
      labelNames: ['index'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const i of indexes.list()) {
          let scale = 0;
          for (const ns of i.index.annCandidates()) if (ns.annCalibration !== undefined) scale = Math.max(scale, ns.annScale);
          if (scale > 0) this.set({ index: i.id }, scale);
        }
      },
    });
    new Gauge({
      name: 'conifer_store_ann_estimated_recall',
      help: 'Lowest recall@10 estimated by the breadth calibration among the index namespace graphs (with their chosen multipliers)',
      labelNames: ['index'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const i of indexes.list()) {
          let recall = Number.POSITIVE_INFINITY;
          for (const ns of i.index.annCandidates()) if (ns.annCalibration !== undefined) recall = Math.min(recall, ns.annCalibration.recall);
          if (Number.isFinite(recall)) this.set({ index: i.id }, recall);
        }
      },
    });
    // How far a graph has grown past the size its breadth was calibrated at: the multiplier under-provisions a grown
    // graph (recall at a fixed multiplier falls as the graph grows, bench/RESULTS.md s11-calsize), so this is
    // the calibration's staleness (the builder calibrates again at 1.25× once caught up, 2× while building).
    new Gauge({
      name: 'conifer_store_ann_calibration_growth',
      help: 'Largest ratio, among the index namespace graphs, of the graph size to the size its breadth calibration was made at (1: calibrated at its size)',
      labelNames: ['index'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const i of indexes.list()) {
          let growth = 0;
          for (const ns of i.index.annCandidates()) {
            const size = ns.annCalibration?.size;
            if (size !== undefined && size > 0 && ns.ann !== undefined) growth = Math.max(growth, ns.ann.size / size);
          }
          if (growth > 0) this.set({ index: i.id }, growth);
        }
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

  /**
   * conifer_store_event_loop_delay_seconds: how late a 10 ms timer fires, one observation per tick, so a
   * stall of d ms is one observation of ≈ d (what monitorEventLoopDelay records, but as a cumulative
   * Prometheus histogram: rates and quantiles over any window, and several scrapers do not reset each
   * other as they do nodejs_eventloop_lag_*). Buckets are fine around the 50 ms stall budget.
   * conifer_store_event_loop_busy_seconds: the main thread's CPU time between the same two ticks (where
   * process.threadCpuUsage exists, Node ≥ 23.9): the loop's own work per turn. On a machine with more
   * runnable threads than cores the delay also counts time the thread waited for a core; the CPU time
   * does not, so it tells a long task from a busy machine.
   */
  private sampleEventLoopDelay(): void {
    const buckets = [0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5];
    const delay = new Histogram({
      name: 'conifer_store_event_loop_delay_seconds',
      help: 'Event-loop delay: lateness of a 10 ms timer, per tick',
      buckets,
      registers: [this.registry],
    });
    const threadCpu = typeof process.threadCpuUsage === 'function' ? (): number => {
      const { user, system } = process.threadCpuUsage();
      return (user + system) / 1000;
    } : undefined;
    const busy =
      threadCpu === undefined
        ? undefined
        : new Histogram({
            name: 'conifer_store_event_loop_busy_seconds',
            help: 'Main-thread CPU time between two ticks of the 10 ms event-loop timer',
            buckets,
            registers: [this.registry],
          });
    let last = performance.now();
    let lastCpu = threadCpu?.() ?? 0;
    this.loopTimer = setInterval(() => {
      const now = performance.now();
      delay.observe(Math.max(0, now - last - LOOP_SAMPLE_MS) / 1000);
      last = now;
      if (threadCpu !== undefined) {
        const cpu = threadCpu();
        busy!.observe((cpu - lastCpu) / 1000);
        lastCpu = cpu;
      }
    }, LOOP_SAMPLE_MS);
    this.loopTimer.unref();
  }

  close(): void {
    if (this.loopTimer !== undefined) clearInterval(this.loopTimer);
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
