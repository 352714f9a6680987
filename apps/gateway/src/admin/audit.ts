import type { AdminContext } from './admin-context.js';
import type { AuditEntry } from './audit.repository.js';

/** An audit row for an action of the calling service account. */
export function auditOf(
  context: AdminContext,
  action: string,
  targetType: string,
  targetId: string | null,
  details: Record<string, unknown> = {},
): AuditEntry {
  return {
    organizationId: context.organizationId,
    actorType: 'service_account',
    actorId: context.actorId,
    action,
    targetType,
    targetId,
    clientAddress: context.clientAddress,
    details,
  };
}
