// The admin API's usage reads: one key's hourly counts, and a project's roll-up (hourly sums and per-key totals),
// scoped to the caller's organization (another organization's ids answer 404, like missing ones).
import { Inject, Injectable } from '@nestjs/common';
import { InvalidArgumentError, NotFoundError } from '@conifer/contracts';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { isUuid } from '../common/request-params.js';
import { fillHours, hourOf, totalOf, USAGE_RETENTION_DAYS, type KeyUsageTotal, type UsageBucket, type UsageCounts } from './usage.js';
import { UsageRepository } from './usage.repository.js';

export interface UsageRange {
  readonly from: Date;
  readonly to: Date;
}

export interface KeyUsage extends UsageRange {
  readonly apiKeyId: string;
  readonly projectId: string;
  readonly buckets: UsageBucket[];
  readonly total: UsageCounts;
}

export interface ProjectUsage extends UsageRange {
  readonly projectId: string;
  readonly buckets: UsageBucket[];
  readonly total: UsageCounts;
  readonly keys: KeyUsageTotal[];
}

const HOUR_MS = 3_600_000;
const DEFAULT_RANGE_MS = 24 * HOUR_MS;
const MAX_RANGE_MS = (USAGE_RETENTION_DAYS + 1) * 24 * HOUR_MS;

function parseTime(value: unknown, name: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidArgumentError(`${name} must be given once`);
  const at = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(at.getTime())) throw new InvalidArgumentError(`${name} must be an ISO 8601 time or Unix seconds`);
  return at;
}

/**
 * `from`/`to` as given (ISO 8601 or Unix seconds), widened to whole hours: [hour of from, hour after to).
 * Defaults: the last 24 hours. At most the retention period (31 days) at a time.
 */
export function parseUsageRange(fromValue: unknown, toValue: unknown, now = new Date()): UsageRange {
  const toGiven = parseTime(toValue, 'to');
  const fromGiven = parseTime(fromValue, 'from');
  const to = new Date(hourOf(toGiven ?? now).getTime() + HOUR_MS);
  const from = hourOf(fromGiven ?? new Date(to.getTime() - DEFAULT_RANGE_MS));
  if (from.getTime() >= to.getTime()) throw new InvalidArgumentError('from must be before to');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
    throw new InvalidArgumentError(`The range from..to may span at most ${USAGE_RETENTION_DAYS + 1} days`);
  }
  return { from, to };
}

@Injectable()
export class UsageService {
  constructor(@Inject(UsageRepository) private readonly repository: UsageRepository) {}

  async keyUsage(admin: AdminContext, apiKeyId: string, range: UsageRange): Promise<KeyUsage> {
    const projectId = isUuid(apiKeyId) ? await this.repository.keyProject(admin.organizationId, apiKeyId) : null;
    if (!projectId) throw new NotFoundError(`API key ${apiKeyId} not found`);
    const buckets = fillHours(range.from, range.to, await this.repository.keyHours(apiKeyId, range.from, range.to));
    return { apiKeyId, projectId, ...range, buckets, total: totalOf(buckets) };
  }

  async projectUsage(admin: AdminContext, projectId: string, range: UsageRange): Promise<ProjectUsage> {
    if (!isUuid(projectId) || !(await this.repository.projectExists(admin.organizationId, projectId))) {
      throw new NotFoundError(`Project ${projectId} not found`);
    }
    const [hours, keys] = await Promise.all([
      this.repository.projectHours(projectId, range.from, range.to),
      this.repository.projectKeys(projectId, range.from, range.to),
    ]);
    const buckets = fillHours(range.from, range.to, hours);
    return { projectId, ...range, buckets, total: totalOf(buckets), keys };
  }
}
