import { Inject, Injectable } from '@nestjs/common';
import { encodeAuditPaginationToken, type AuditPageRequest } from '@conifer/contracts';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { auditEventModel, type AuditEventModel } from './admin-wire.js';

@Injectable()
export class AuditService {
  constructor(@Inject(AuditRepository) private readonly audit: AuditRepository) {}

  /** Newest first, filtered; `pagination.next` is present when there may be more (valid with the same filters). */
  async list(context: AdminContext, page: AuditPageRequest): Promise<{ data: AuditEventModel[]; pagination?: { next: string } }> {
    const events = await this.audit.list(context.organizationId, page.limit + 1, page.beforeId, page.filter);
    const shown = events.slice(0, page.limit);
    const more = events.length > page.limit;
    return {
      data: shown.map(auditEventModel),
      ...(more ? { pagination: { next: encodeAuditPaginationToken(shown[shown.length - 1]!.id, page.filter) } } : {}),
    };
  }
}
