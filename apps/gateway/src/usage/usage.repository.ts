// api_key_usage: batched additive writes from every replica, retention, and the hourly reads of the admin API.
import { Inject, Injectable } from '@nestjs/common';
import { PrismaService } from '../database/prisma.service.js';
import type { KeyUsageTotal, UsageBucket, UsageDelta } from './usage.js';

interface CountRow {
  reads: bigint;
  writes: bigint;
  errors: bigint;
}

const counts = (row: CountRow) => ({ reads: Number(row.reads), writes: Number(row.writes), errors: Number(row.errors) });

@Injectable()
export class UsageRepository {
  constructor(@Inject(PrismaService) private readonly prisma: PrismaService) {}

  /** Adds every delta to its (key, hour) row in one statement; concurrent replicas add up. */
  async add(deltas: readonly UsageDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    const keyIds = deltas.map((d) => d.apiKeyId);
    const projectIds = deltas.map((d) => d.projectId);
    const hours = deltas.map((d) => d.hour.toISOString());
    const reads = deltas.map((d) => d.reads);
    const writes = deltas.map((d) => d.writes);
    const errors = deltas.map((d) => d.errors);
    await this.prisma.$executeRaw`
      INSERT INTO api_key_usage AS u (api_key_id, project_id, hour, reads, writes, errors)
      SELECT * FROM unnest(${keyIds}::uuid[], ${projectIds}::uuid[], ${hours}::timestamptz[],
                           ${reads}::bigint[], ${writes}::bigint[], ${errors}::bigint[])
      ON CONFLICT (api_key_id, hour) DO UPDATE
         SET reads = u.reads + EXCLUDED.reads,
             writes = u.writes + EXCLUDED.writes,
             errors = u.errors + EXCLUDED.errors`;
  }

  async deleteBefore(cutoff: Date): Promise<number> {
    return this.prisma.$executeRaw`DELETE FROM api_key_usage WHERE hour < ${cutoff}`;
  }

  /** The key's project when the key belongs to the organization (revoked keys included), else null. */
  async keyProject(organizationId: string, apiKeyId: string): Promise<string | null> {
    const rows = await this.prisma.$queryRaw<{ project_id: string }[]>`
      SELECT k.project_id::text AS project_id FROM api_keys k JOIN projects p ON p.id = k.project_id
       WHERE k.id = ${apiKeyId}::uuid AND p.organization_id = ${organizationId}::uuid`;
    return rows[0]?.project_id ?? null;
  }

  async projectExists(organizationId: string, projectId: string): Promise<boolean> {
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM projects WHERE id = ${projectId}::uuid AND organization_id = ${organizationId}::uuid`;
    return rows.length > 0;
  }

  /** Stored hours of one key in [from, to). */
  async keyHours(apiKeyId: string, from: Date, to: Date): Promise<UsageBucket[]> {
    const rows = await this.prisma.$queryRaw<(CountRow & { hour: Date })[]>`
      SELECT hour, reads, writes, errors FROM api_key_usage
       WHERE api_key_id = ${apiKeyId}::uuid AND hour >= ${from} AND hour < ${to}
       ORDER BY hour`;
    return rows.map((row) => ({ hour: row.hour, ...counts(row) }));
  }

  /** Stored hours of every key of a project in [from, to), summed per hour. */
  async projectHours(projectId: string, from: Date, to: Date): Promise<UsageBucket[]> {
    const rows = await this.prisma.$queryRaw<(CountRow & { hour: Date })[]>`
      SELECT hour, SUM(reads)::bigint AS reads, SUM(writes)::bigint AS writes, SUM(errors)::bigint AS errors
        FROM api_key_usage
       WHERE project_id = ${projectId}::uuid AND hour >= ${from} AND hour < ${to}
       GROUP BY hour ORDER BY hour`;
    return rows.map((row) => ({ hour: row.hour, ...counts(row) }));
  }

  /** Totals per key of a project in [from, to), busiest first. */
  async projectKeys(projectId: string, from: Date, to: Date): Promise<KeyUsageTotal[]> {
    const rows = await this.prisma.$queryRaw<(CountRow & { api_key_id: string })[]>`
      SELECT api_key_id::text AS api_key_id, SUM(reads)::bigint AS reads, SUM(writes)::bigint AS writes,
             SUM(errors)::bigint AS errors
        FROM api_key_usage
       WHERE project_id = ${projectId}::uuid AND hour >= ${from} AND hour < ${to}
       GROUP BY api_key_id ORDER BY SUM(reads + writes + errors) DESC, api_key_id`;
    return rows.map((row) => ({ apiKeyId: row.api_key_id, ...counts(row) }));
  }
}
