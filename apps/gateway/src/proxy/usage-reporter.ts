// Feeds per-key usage (usage/) from the one place finished data-plane requests are reported: a request made
// with a verified key counts as a read or a write (by its operation's permission) when it succeeded, and as an
// error otherwise (4xx/5xx after the key was verified: scope and role refusals, rate limits, upstream errors).
// Requests without a valid key belong to no key and are not counted.
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { UsageRecorder } from '../usage/usage.recorder.js';
import { DataPlaneReports, type DataPlaneRequestReport } from './data-plane.reports.js';
import { OPERATIONS } from './operations.js';

const WRITES: ReadonlySet<string> = new Set(
  Object.values(OPERATIONS)
    .filter((operation) => operation.permission === 'data:write')
    .map((operation) => operation.name),
);

@Injectable()
export class UsageReporter implements OnModuleInit, OnModuleDestroy {
  private unsubscribe: (() => void) | undefined;

  constructor(
    @Inject(DataPlaneReports) private readonly reports: DataPlaneReports,
    @Inject(UsageRecorder) private readonly usage: UsageRecorder,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.reports.subscribe((report) => this.count(report));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  private count(report: DataPlaneRequestReport): void {
    if (report.apiKeyId === null || report.projectId === null) return;
    this.usage.record(
      { apiKeyId: report.apiKeyId, projectId: report.projectId },
      WRITES.has(report.operation) ? 'write' : 'read',
      report.status < 400 ? 'ok' : 'error',
    );
  }
}
