import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { parseAuditPageRequest } from '@conifer/contracts';
import { AdminAuthGuard } from './admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from './admin-context.js';
import { AuditService } from './audit.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('audit')
@ApiBearerAuth()
@Controller('admin/audit-events')
@UseGuards(AdminAuthGuard)
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  /** Newest first; ?limit=1..100 (default 50) and ?pagination_token=<pagination.next of the previous page>. */
  @Doc({ summary: 'Audit events, newest first', response: 'AuditEventList', query: [{ name: 'limit', description: '1..100 (default 50)', type: 'integer' }, { name: 'pagination_token', description: 'pagination.next of the previous page' }] })
  @Get()
  list(@CurrentAdmin() admin: AdminContext, @Query() query: Record<string, unknown>) {
    return this.audit.list(admin, parseAuditPageRequest(query ?? {}));
  }
}
