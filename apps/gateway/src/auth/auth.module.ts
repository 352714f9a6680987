// API-key authentication: the passport strategy and guard, the verification pipeline with its caches,
// revocation (broadcast + durable poll) and per-key rate limits. Global: any controller can use ApiKeyGuard.
import { Global, Module } from '@nestjs/common';
import type { ConiferConfig, ResolvedSecrets } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG, SECRETS } from '../config/runtime.js';
import { MetricsService } from '../health/metrics.service.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyStrategy } from './api-key.strategy.js';
import { ApiKeysRepository } from './api-keys.repository.js';
import { AuthMetrics } from './auth.metrics.js';
import { KeyCache } from './key-cache.js';
import { KeyCacheRedisRepository } from './key-cache.redis.repository.js';
import { KeyEvents } from './key-events.js';
import { KEY_FAILURE_LIMIT, KEY_FAILURE_WINDOW_MS, KeyFailureThrottle } from './key-failure-throttle.js';
import { KeyVerifier } from './key-verifier.js';
import { LastUsedSink } from './last-used.sink.js';
import { RateLimiter } from './rate-limiter.js';
import { RevocationListener } from './revocation.listener.js';

const PG_RETRY_MS = 1_000;

@Global()
@Module({
  providers: [
    ApiKeysRepository,
    KeyCacheRedisRepository,
    {
      provide: KeyCache,
      inject: [CONFIG],
      useFactory: (config: ConiferConfig) =>
        new KeyCache({
          maxEntries: config.gateway.keyCacheMaxEntries,
          maxNegativeEntries: config.gateway.negativeCacheMaxEntries,
        }),
    },
    { provide: AuthMetrics, inject: [MetricsService], useFactory: (metrics: MetricsService) => new AuthMetrics(metrics.registry) },
    {
      provide: RateLimiter,
      inject: [KeyCacheRedisRepository],
      useFactory: (shared: KeyCacheRedisRepository) => new RateLimiter(shared.enabled ? shared : null),
    },
    RevocationListener,
    { provide: KeyEvents, useExisting: RevocationListener },
    {
      provide: KeyVerifier,
      inject: [CONFIG, SECRETS, KeyCache, ApiKeysRepository, RevocationListener, RateLimiter, AuthMetrics, LOGGER, { token: LastUsedSink, optional: true }],
      useFactory: (
        config: ConiferConfig,
        secrets: ResolvedSecrets,
        cache: KeyCache,
        keys: ApiKeysRepository,
        revocations: RevocationListener,
        limiter: RateLimiter,
        metrics: AuthMetrics,
        logger: Logger,
        lastUsed: LastUsedSink | undefined,
      ) =>
        new KeyVerifier({
          settings: {
            pepper: secrets.keyPepper,
            keyCacheTtlMs: config.gateway.keyCacheTtlMs,
            fallbackTtlMs: config.gateway.keyCacheFallbackTtlMs,
            negativeCacheTtlMs: config.gateway.negativeCacheTtlMs,
            pgOutageGraceMs: config.gateway.pgOutageGraceMs,
            pgRetryMs: PG_RETRY_MS,
          },
          cache,
          keys,
          shared: revocations.sharedCache(),
          limiter,
          observer: metrics,
          lastUsed: lastUsed ?? null,
          logger: logger.child({ component: 'auth' }),
        }),
    },
    {
      provide: KeyFailureThrottle,
      inject: [CONFIG],
      useFactory: (config: ConiferConfig) => new KeyFailureThrottle(KEY_FAILURE_LIMIT, KEY_FAILURE_WINDOW_MS, config.gateway.keyIdMaxFailures),
    },
    ApiKeyStrategy,
    ApiKeyGuard,
  ],
  exports: [ApiKeysRepository, KeyEvents, KeyVerifier, KeyFailureThrottle, ApiKeyGuard, ApiKeyStrategy, KeyCache, RevocationListener],
})
export class AuthModule {}
