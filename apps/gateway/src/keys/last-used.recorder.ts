// Last-used tracking off the request path: record() only updates an in-memory map (latest time per key);
// every CONFIG.gateway.lastUsedFlushMs the map is written with one UPDATE, and once more at shutdown.
// A failed flush keeps its entries for the next one (newest time wins), so a Postgres outage loses nothing
// but freshness.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { LOGGER } from '../common/logger.js';
import { PeriodicFlusher } from '../common/periodic-flusher.js';
import { CONFIG } from '../config/runtime.js';

/** Keys remembered between flushes at most; beyond it the oldest entries are dropped (and logged). */
const MAX_PENDING = 100_000;

@Injectable()
export class LastUsedRecorder extends PeriodicFlusher {
  private pending = new Map<string, Date>();

  constructor(
    @Inject(ApiKeysRepository) private readonly keys: ApiKeysRepository,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

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

  protected flushEveryMs(): number {
    return this.config.gateway.lastUsedFlushMs;
  }

  /** One UPDATE for every key recorded since the last flush. */
  protected async writePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.keys.writeLastUsed(batch);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, keys: batch.size }, 'last-used flush failed; will retry');
      for (const [keyId, at] of batch) this.record(keyId, at);
    }
  }
}
