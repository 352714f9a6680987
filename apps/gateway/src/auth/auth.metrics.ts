// Prometheus counters of the auth pipeline, on the app's registry.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuthObserver, AuthOutcome, CacheLayer } from './key-verifier.js';

const OUTCOMES: AuthOutcome[] = ['valid', 'unauthenticated', 'revoked', 'expired', 'rate_limited', 'unavailable'];
const LAYERS: CacheLayer[] = ['local', 'negative', 'redis', 'postgres'];
export type EvictionSource = 'event' | 'broadcast' | 'poll';
const SOURCES: EvictionSource[] = ['event', 'broadcast', 'poll'];

export class AuthMetrics implements AuthObserver {
  private readonly results: Counter<'outcome'>;
  private readonly hits: Counter<'layer'>;
  private readonly resultCounters = new Map<AuthOutcome, { inc(): void }>();
  private readonly hitCounters = new Map<CacheLayer, { inc(): void }>();
  private readonly evictionCounters = new Map<EvictionSource, { inc(): void }>();
  private lastPollAt = Date.now();

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
    const evictions = new Counter({
      name: 'conifer_auth_key_evictions_total',
      help: 'Key cache evictions by source: event (this replica announced it), broadcast (pub/sub), poll (key_revocations)',
      labelNames: ['source'] as const,
      registers: [registry],
    });
    for (const source of SOURCES) this.evictionCounters.set(source, evictions.labels({ source }));
    const lastPollAt = () => this.lastPollAt;
    new Gauge({
      name: 'conifer_auth_revocation_poll_age_seconds',
      help: 'Seconds since the last successful key_revocations poll (the revocation backstop)',
      registers: [registry],
      collect() {
        this.set((Date.now() - lastPollAt()) / 1000);
      },
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

  eviction(source: EvictionSource): void {
    this.evictionCounters.get(source)!.inc();
  }

  pollSucceeded(): void {
    this.lastPollAt = Date.now();
  }
}
