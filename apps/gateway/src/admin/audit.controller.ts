import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { parseAuditPageRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { AuditService } from './audit.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('admin/audit-events')
@UseGuards(AdminAuthGuard)
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  /**
   * Newest first; ?limit=1..100 (default 50) and ?pagination_token=<pagination.next of the previous page>, sent with
   * the same filters. Filters (all optional, combined with AND): action, actor_type, actor_id, target_type,
   * target_id (exact), from (inclusive) and to (exclusive) as ISO 8601.
   */
  @Doc({
    summary: 'Audit events, newest first, filtered on the server',
    response: 'AuditEventList',
    query: [
      { name: 'limit', description: '1..100 (default 50)', type: 'integer' },
      { name: 'pagination_token', description: 'pagination.next of the previous page; valid only with the same filters' },
      { name: 'action', description: 'Exact action, e.g. api_key.create' },
      { name: 'actor_type', description: 'Exact actor type: service_account or system' },
      { name: 'actor_id', description: 'Exact actor id (the service account id)' },
      { name: 'target_type', description: 'Exact target type, e.g. project, api_key, service_account' },
      { name: 'target_id', description: 'Exact target id' },
      { name: 'from', description: 'Events at or after this time (ISO 8601 date, or date-time with a zone)' },
      { name: 'to', description: 'Events before this time (ISO 8601 date, or date-time with a zone)' },
    ],
  })
  @Get()
  list(@CurrentAdmin() admin: AdminContext, @Query() query: Record<string, unknown>) {
    return this.audit.list(admin, parseAuditPageRequest(query ?? {}));
  }
}
