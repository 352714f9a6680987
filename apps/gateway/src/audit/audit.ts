import type { AuditEntry } from './audit.repository.js';

/** Who did it, as the audit log records it (an admin caller's context has this shape). */
export interface AuditActor {
  readonly organizationId: string;
  /** Service-account id. */
  readonly actorId: string;
  readonly clientAddress: string | null;
}

/** An audit row for an action of the calling service account. */
export function auditOf(
  actor: AuditActor,
  action: string,
  targetType: string,
  targetId: string | null,
  details: Record<string, unknown> = {},
): AuditEntry {
  return {
    organizationId: actor.organizationId,
    actorType: 'service_account',
    actorId: actor.actorId,
    action,
    targetType,
    targetId,
    clientAddress: actor.clientAddress,
    details,
  };
}
