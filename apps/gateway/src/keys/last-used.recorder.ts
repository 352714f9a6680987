// Last-used tracking off the request path: record() only updates an in-memory map (latest time per key);
// every CONFIG.gateway.lastUsedFlushMs the map is written with one UPDATE, and once more at shutdown.
// A failed flush keeps its entries for the next one (newest time wins), so a Postgres outage loses nothing
// but freshness.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { LOGGER } from '../common/logger.js';
import { CONFIG } from '../config/runtime.js';

/** Keys remembered between flushes at most; beyond it the oldest entries are dropped (and logged). */
const MAX_PENDING = 100_000;

@Injectable()
export class LastUsedRecorder implements OnModuleInit, OnModuleDestroy {
  private pending = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Called on each verified request: a map write, no I/O. */
  record(keyId: string, at: Date = new Date()): void {
    const seen = this.pending.get(keyId);
    if (seen === undefined || seen.getTime() < at.getTime()) {
      if (seen === undefined && this.pending.size >= MAX_PENDING) {
        const oldest = this.pending.keys().next().value as string;
        this.pending.delete(oldest);
      }
      this.pending.set(keyId, at);
    }
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Writes what has been recorded so far (one UPDATE). Concurrent calls share the flush in progress. */
  async flush(): Promise<void> {
    if (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.keys
      .writeLastUsed(batch)
      .then(() => undefined)
      .catch((error: unknown) => {
        this.logger.warn({ err: (error as Error).message, keys: batch.size }, 'last-used flush failed; will retry');
        for (const [keyId, at] of batch) this.record(keyId, at);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.gateway.lastUsedFlushMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
