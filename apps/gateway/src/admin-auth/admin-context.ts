// Who is calling the admin API: a service account of one organization, from its bearer token.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuditActor } from '../audit/audit.js';

export interface AdminPrincipal {
  readonly serviceAccountId: string;
  readonly organizationId: string;
  readonly clientId: string;
}

/** Everything a service needs to scope a call to the caller's organization and to audit it. */
export interface AdminContext extends AuditActor {
  readonly organizationId: string;
  /** Service-account id, recorded as the audit actor. */
  readonly actorId: string;
  readonly clientAddress: string | null;
}

export const CurrentAdmin = createParamDecorator((_data: unknown, context: ExecutionContext): AdminContext => {
  const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AdminPrincipal }>();
  const principal = request.user;
  if (!principal) throw new Error('CurrentAdmin used on a route without admin authentication');
  return { organizationId: principal.organizationId, actorId: principal.serviceAccountId, clientAddress: request.ip ?? null };
});
