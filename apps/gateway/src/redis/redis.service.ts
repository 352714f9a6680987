// The shared Redis connection (key cache, revocation broadcast, rate limits), or none in single-node mode.
// Commands fail fast while Redis is unreachable (no offline queue): callers fall back, they never hang.
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';

@Injectable()
export class RedisService implements OnModuleDestroy {
  /** null in single-node mode (REDIS_URL unset). */
  readonly client: Redis | null;
  private readonly connections: Redis[] = [];

  constructor(
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    if (!config.redis.url) {
      this.client = null;
      logger.warn('REDIS_URL is not set: single-node mode (in-process key cache and revocation broadcast)');
      return;
    }
    this.client = this.connect('commands');
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /** A namespaced key, so several deployments or test runs can share one Redis. */
  key(name: string): string {
    return `${this.config.redis.keyPrefix}${name}`;
  }

  /** A further connection (pub/sub needs its own). */
  connect(role: string): Redis {
    if (!this.config.redis.url) throw new Error('Redis is not configured');
    const connection = new Redis(this.config.redis.url, {
      connectionName: `conifer-gateway-${role}`,
      enableOfflineQueue: role !== 'commands',
      maxRetriesPerRequest: 1,
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
    });
    let reportedDown = false;
    connection.on('error', (error) => {
      if (!reportedDown) this.logger.warn({ role, err: error.message }, 'Redis connection error');
      reportedDown = true;
    });
    connection.on('ready', () => {
      if (reportedDown) this.logger.info({ role }, 'Redis connection restored');
      reportedDown = false;
    });
    this.connections.push(connection);
    return connection;
  }

  async ping(): Promise<void> {
    if (this.client) await this.client.ping();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }
}
