// Prometheus metrics. One registry per app instance (tests run several gateways in one process).
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { CONFIG } from '../config/runtime.js';

interface RequestMetrics {
  readonly requests: { inc(): void };
  readonly duration: { observe(seconds: number): void };
}

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'conifer_http_requests_total',
    help: 'HTTP requests by route, method, status and outcome',
    labelNames: ['route', 'method', 'status', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'conifer_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });

  constructor(@Inject(CONFIG) config: ConiferConfig) {
    // Only when /metrics serves them: the default metrics' event-loop monitor wakes the loop every 10 ms, ~9 ms of
    // CPU per second of an idle gateway here (bench/src/idle-cpu.ts).
    if (config.gateway.metricsEnabled) collectDefaultMetrics({ register: this.registry, prefix: 'conifer_gateway_' });
  }

  /** route → method → status → the two metrics' children: no label objects built per request. */
  private readonly children = new Map<string, Map<string, Map<number, RequestMetrics>>>();

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    let byMethod = this.children.get(route);
    if (byMethod === undefined) this.children.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    let metrics = byStatus.get(status);
    if (metrics === undefined) {
      const outcome = status < 400 ? 'success' : status < 500 ? 'client_error' : 'server_error';
      metrics = { requests: this.httpRequests.labels(route, method, String(status), outcome), duration: this.httpDuration.labels(route, method) };
      byStatus.set(status, metrics);
    }
    metrics.requests.inc();
    metrics.duration.observe(seconds);
  }
}
