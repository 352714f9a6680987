// Who is calling the admin API (a service account of one organization, from its bearer token) and the request
// helpers admin controllers share: the caller's context, and the JSON body check (415 / 400 in Pinecone's shape).
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { InvalidArgumentError } from '@conifer/contracts';
import type { FastifyRequest } from 'fastify';

export interface AdminPrincipal {
  readonly serviceAccountId: string;
  readonly organizationId: string;
  readonly clientId: string;
}

/** Everything a service needs to scope a call to the caller's organization and to audit it. */
export interface AdminContext {
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

// The JSON body check moved to common/ (the control plane uses it too).
export { JsonBody } from '../common/json-body.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A boolean query flag: absent, "", "false" or "0" is false; "true" or "1" is true; anything else is a 400. */
export function parseFlag(value: unknown, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false;
  if (value === 'true' || value === '1') return true;
  throw new InvalidArgumentError(`${name} must be true or false`);
}
