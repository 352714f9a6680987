// The request's JSON body for admin and control-plane routes, checked as Pinecone does: a content type other
// than JSON → 415, no body or anything but a JSON object (null, a list, a scalar) → 400.
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { InvalidArgumentError } from '@conifer/contracts';
import type { FastifyRequest } from 'fastify';

function isJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  return mediaType === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(mediaType);
}

/** With `optional`, a request without a body (and without a content type) gives undefined. */
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
