import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { parseAuditPageRequest } from '@conifer/contracts';
import { AdminAuthGuard } from './admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from './admin-context.js';
import { AuditService } from './audit.service.js';

@Controller('admin/audit-events')
@UseGuards(AdminAuthGuard)
export class AuditController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  /** Newest first; ?limit=1..100 (default 50) and ?pagination_token=<pagination.next of the previous page>. */
  @Get()
  list(@CurrentAdmin() admin: AdminContext, @Query() query: Record<string, unknown>) {
    return this.audit.list(admin, parseAuditPageRequest(query ?? {}));
  }
}
