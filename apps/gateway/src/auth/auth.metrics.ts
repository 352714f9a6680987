// Prometheus counters of the auth pipeline, on the app's registry.
import { Counter, type Registry } from 'prom-client';
import type { AuthObserver, AuthOutcome, CacheLayer } from './key-verifier.js';

const OUTCOMES: AuthOutcome[] = ['valid', 'unauthenticated', 'revoked', 'expired', 'rate_limited', 'unavailable'];
const LAYERS: CacheLayer[] = ['local', 'negative', 'redis', 'postgres'];

export class AuthMetrics implements AuthObserver {
  private readonly results: Counter<'outcome'>;
  private readonly hits: Counter<'layer'>;
  private readonly resultCounters = new Map<AuthOutcome, { inc(): void }>();
  private readonly hitCounters = new Map<CacheLayer, { inc(): void }>();

  constructor(registry: Registry) {
    this.results = new Counter({
      name: 'conifer_auth_results_total',
      help: 'API-key authentication results by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    this.hits = new Counter({
      name: 'conifer_auth_cache_hits_total',
      help: 'API-key lookups answered, by layer (local, negative, redis, postgres)',
      labelNames: ['layer'] as const,
      registers: [registry],
    });
    for (const outcome of OUTCOMES) this.resultCounters.set(outcome, this.results.labels({ outcome }));
    for (const layer of LAYERS) this.hitCounters.set(layer, this.hits.labels({ layer }));
  }

  outcome(outcome: AuthOutcome): void {
    this.resultCounters.get(outcome)!.inc();
  }

  cacheHit(layer: CacheLayer): void {
    this.hitCounters.get(layer)!.inc();
  }
}
