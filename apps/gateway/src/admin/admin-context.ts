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

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/**
 * The request's JSON body: wrong content type → 415, anything but an object → 400. With `optional`, a
 * request without a body gives undefined.
 */
export const JsonBody = createParamDecorator((options: { optional?: boolean } | undefined, context: ExecutionContext): unknown => {
  const request = context.switchToHttp().getRequest<FastifyRequest>();
  const contentType = request.headers['content-type'];
  if (request.body === undefined && options?.optional && !contentType) return undefined;
  if (contentType !== undefined && !isJson(contentType)) throw new InvalidArgumentError('Unsupported content type: send application/json', 415);
  if (request.body === undefined) throw new InvalidArgumentError('Request body is empty: expected a JSON object');
  if (!isJson(contentType)) throw new InvalidArgumentError('Unsupported content type: send application/json', 415);
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new InvalidArgumentError('Request body must be a JSON object');
  return body;
});

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
