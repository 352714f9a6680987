// GET /admin/api-keys/{id}/usage and GET /admin/projects/{id}/usage: hourly request counts (reads, writes,
// errors) over [from, to), zero-filled, with totals; the project roll-up adds per-key totals.
import { Controller, Get, Inject, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { Doc } from '../openapi/doc.decorator.js';
import type { KeyUsageTotal, UsageBucket, UsageCounts } from './usage.js';
import { parseUsageRange, UsageService } from './usage.service.js';

const RANGE_QUERY = [
  { name: 'from', description: 'Start (ISO 8601 or Unix seconds), widened to the hour; default: 24 hours before `to`' },
  { name: 'to', description: 'End (ISO 8601 or Unix seconds), widened to the end of its hour; default: now' },
];

const bucket = (b: UsageBucket) => ({ hour: b.hour.toISOString(), reads: b.reads, writes: b.writes, errors: b.errors });
const counts = (c: UsageCounts) => ({ reads: c.reads, writes: c.writes, errors: c.errors });
const keyTotal = (k: KeyUsageTotal) => ({ api_key_id: k.apiKeyId, ...counts(k) });

@ApiTags('usage')
@ApiBearerAuth()
@Controller('admin')
@UseGuards(AdminAuthGuard)
export class UsageController {
  constructor(@Inject(UsageService) private readonly usage: UsageService) {}

  @Get('api-keys/:apiKeyId/usage')
  @Doc({ summary: 'Hourly data-plane usage of one API key', response: 'KeyUsage', query: RANGE_QUERY })
  async key(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string, @Query('from') from: unknown, @Query('to') to: unknown) {
    const usage = await this.usage.keyUsage(admin, id, parseUsageRange(from, to));
    return {
      api_key_id: usage.apiKeyId,
      project_id: usage.projectId,
      from: usage.from.toISOString(),
      to: usage.to.toISOString(),
      total: counts(usage.total),
      data: usage.buckets.map(bucket),
    };
  }

  @Get('projects/:projectId/usage')
  @Doc({ summary: 'Hourly data-plane usage of a project (all its keys), with per-key totals', response: 'ProjectUsage', query: RANGE_QUERY })
  async project(@CurrentAdmin() admin: AdminContext, @Param('projectId') id: string, @Query('from') from: unknown, @Query('to') to: unknown) {
    const usage = await this.usage.projectUsage(admin, id, parseUsageRange(from, to));
    return {
      project_id: usage.projectId,
      from: usage.from.toISOString(),
      to: usage.to.toISOString(),
      total: counts(usage.total),
      data: usage.buckets.map(bucket),
      keys: usage.keys.map(keyTotal),
    };
  }
}
