// Usage figures shared by the recorder, the repository and the admin routes.

/** Hourly rows are kept this long; older ones are deleted by the recorder. */
export const USAGE_RETENTION_DAYS = 30;

export interface UsageCounts {
  reads: number;
  writes: number;
  errors: number;
}

/** Counts of one key in one hour, added to what is stored. */
export interface UsageDelta extends UsageCounts {
  readonly apiKeyId: string;
  readonly projectId: string;
  readonly hour: Date;
}

export interface UsageBucket extends UsageCounts {
  readonly hour: Date;
}

export interface KeyUsageTotal extends UsageCounts {
  readonly apiKeyId: string;
}

const HOUR_MS = 3_600_000;

/** Start of the UTC hour `at` falls in. */
export function hourOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/** Every hour from `from` (inclusive) to `to` (exclusive) with its counts, zero where nothing was stored. */
export function fillHours(from: Date, to: Date, rows: readonly UsageBucket[]): UsageBucket[] {
  const byHour = new Map(rows.map((row) => [row.hour.getTime(), row]));
  const buckets: UsageBucket[] = [];
  for (let t = from.getTime(); t < to.getTime(); t += HOUR_MS) {
    const row = byHour.get(t);
    buckets.push({ hour: new Date(t), reads: row?.reads ?? 0, writes: row?.writes ?? 0, errors: row?.errors ?? 0 });
  }
  return buckets;
}

export function totalOf(rows: readonly UsageCounts[]): UsageCounts {
  const total = { reads: 0, writes: 0, errors: 0 };
  for (const row of rows) {
    total.reads += row.reads;
    total.writes += row.writes;
    total.errors += row.errors;
  }
  return total;
}
