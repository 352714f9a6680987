// The request id of every request (Fastify's genReqId, and the data plane's front path): the client's
// X-Request-Id when it is a plain token, else a fresh UUID. Answered in X-Request-Id and logged as reqId.
import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function requestIdOf(headers: Record<string, string | string[] | undefined>): string {
  const given = headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
