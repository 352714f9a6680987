// Per-key usage counting off the request path. record() adds one to an in-memory counter for
// (key, hour, kind); every CONIFER_LAST_USED_FLUSH_MS the counters are *added* to api_key_usage in one
// statement (INSERT … ON CONFLICT DO UPDATE SET reads = reads + EXCLUDED.reads), so any number of gateway
// replicas and restarts add up instead of overwriting each other. A failed flush puts its counts back for the
// next one; shutdown flushes once more. Rows older than USAGE_RETENTION_DAYS are deleted about once an hour.
import { Inject, Injectable } from '@nestjs/common';
import type { ConiferConfig } from '@conifer/config';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';
import { PeriodicFlusher } from '../common/periodic-flusher.js';
import { CONFIG } from '../config/runtime.js';
import { UsageRepository } from './usage.repository.js';
import { hourOf, USAGE_RETENTION_DAYS, type UsageCounts, type UsageDelta } from './usage.js';

/** Distinct (key, hour) counters kept between flushes at most; beyond it new keys are dropped (and logged). */
const MAX_PENDING = 100_000;
const PURGE_EVERY_MS = 3_600_000;

/** Who used the data plane: the API key's admin id and its project (an ApiKeyPrincipal fits). */
export interface UsageKey {
  readonly apiKeyId: string;
  readonly projectId: string;
}

export type UsageKind = 'read' | 'write';
export type UsageOutcome = 'ok' | 'error';

interface Pending extends UsageCounts {
  readonly apiKeyId: string;
  readonly projectId: string;
  readonly hour: Date;
}

@Injectable()
export class UsageRecorder extends PeriodicFlusher {
  private pending = new Map<string, Pending>();
  private lastPurge = 0;
  private dropped = 0;

  constructor(
    @Inject(UsageRepository) private readonly repository: UsageRepository,
    @Inject(CONFIG) private readonly config: ConiferConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    super();
  }

  /**
   * One finished data-plane request: a map update, no I/O, never throws. `kind` is the operation's class
   * (data:read → read, data:write → write); an `error` outcome (4xx/5xx after the key was verified) is
   * counted under errors only, so reads + writes + errors is every request the key made.
   */
  record(key: UsageKey, kind: UsageKind, outcome: UsageOutcome, at: Date = new Date()): void {
    this.add({
      apiKeyId: key.apiKeyId,
      projectId: key.projectId,
      hour: hourOf(at),
      reads: outcome === 'ok' && kind === 'read' ? 1 : 0,
      writes: outcome === 'ok' && kind === 'write' ? 1 : 0,
      errors: outcome === 'error' ? 1 : 0,
    });
  }

  private add(delta: Pending): void {
    const id = `${delta.apiKeyId}|${delta.hour.getTime()}`;
    const current = this.pending.get(id);
    if (current) {
      current.reads += delta.reads;
      current.writes += delta.writes;
      current.errors += delta.errors;
      return;
    }
    if (this.pending.size >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.set(id, { ...delta });
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  protected flushEveryMs(): number {
    return this.config.gateway.lastUsedFlushMs;
  }

  /** Adds what has been counted so far to Postgres (one statement), and about once an hour deletes old rows. */
  protected async writePending(): Promise<void> {
    if (this.dropped > 0) {
      this.logger.warn({ dropped: this.dropped }, 'usage counters dropped: too many distinct keys between flushes');
      this.dropped = 0;
    }
    const purge = Date.now() - this.lastPurge >= PURGE_EVERY_MS;
    if (this.pending.size === 0 && !purge) return;
    const deltas: UsageDelta[] = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.repository.add(deltas);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, counters: deltas.length }, 'usage flush failed; will retry');
      for (const delta of deltas) this.add(delta);
      return;
    }
    if (purge) {
      this.lastPurge = Date.now();
      try {
        const cutoff = new Date(Date.now() - USAGE_RETENTION_DAYS * 86_400_000);
        const removed = await this.repository.deleteBefore(cutoff);
        if (removed > 0) this.logger.info({ removed }, 'old usage rows deleted');
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'usage retention cleanup failed; will retry');
        this.lastPurge = 0;
      }
    }
  }
}
