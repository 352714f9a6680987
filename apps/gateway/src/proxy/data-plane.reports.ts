// The one place a finished data-plane request is reported: which key, which operation, how it ended. Every
// data-plane route calls `finished` exactly once per request, after the answer is sent (unauthenticated
// requests included, with no key). Listeners (per-key usage counters…) subscribe here; they run on the hot
// path, so they must be cheap and must not throw (a throwing listener is logged and skipped).
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { LOGGER } from '../common/logger.js';

export type DataPlaneOutcome = 'ok' | 'client_error' | 'unauthenticated' | 'rate_limited' | 'unavailable' | 'error';

export interface DataPlaneRequestReport {
  /** Catalog id of the key (admin API id); null when no valid key was presented. */
  readonly apiKeyId: string | null;
  /** Public id embedded in the key string; null when no valid key was presented. */
  readonly keyId: string | null;
  readonly projectId: string | null;
  /** Operation name from proxy/operations.ts ('query', 'upsert'…). */
  readonly operation: string;
  readonly status: number;
  readonly outcome: DataPlaneOutcome;
  /** Whole request, as Fastify measured it. */
  readonly durationMs: number;
  readonly requestId: string;
}

export type DataPlaneReportListener = (report: DataPlaneRequestReport) => void;

export function outcomeOfStatus(status: number): DataPlaneOutcome {
  if (status < 400) return 'ok';
  if (status === 401) return 'unauthenticated';
  if (status === 429) return 'rate_limited';
  if (status === 503) return 'unavailable';
  return status < 500 ? 'client_error' : 'error';
}

@Injectable()
export class DataPlaneReports {
  private listeners: DataPlaneReportListener[] = [];

  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: DataPlaneReportListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  finished(report: DataPlaneRequestReport): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!(report);
      } catch (error) {
        this.logger.error({ err: error, reqId: report.requestId }, 'data-plane report listener failed');
      }
    }
  }

  get hasListeners(): boolean {
    return this.listeners.length > 0;
  }
}
