// The one place errors become HTTP responses: ConiferErrors render as Pinecone's REST body on the control
// plane and admin API, and as the gRPC-style body under an index host. Framework errors (unknown route,
// body too large, bad JSON, wrong content type) map to their 4xx; anything else is logged and is INTERNAL.
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import {
  ConiferError,
  grpcErrorBody,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  restErrorBody,
  UnauthenticatedError,
  UnavailableError,
} from '@conifer/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** Requests under an index host (path prefix /data/…, or marked by host routing) speak the data-plane dialect. */
export function isDataPlaneRequest(request: FastifyRequest): boolean {
  return (request as FastifyRequest & { dataPlane?: boolean }).dataPlane === true || request.url.startsWith('/data/');
}

export function toConiferError(error: unknown): ConiferError | undefined {
  if (error instanceof ConiferError) return error;
  const status =
    error instanceof HttpException
      ? error.getStatus()
      : typeof (error as { statusCode?: unknown })?.statusCode === 'number'
        ? (error as { statusCode: number }).statusCode
        : undefined;
  if (status === undefined || status >= 500) return undefined;
  const message = describeClientError(error, status);
  switch (status) {
    case 401:
      return new UnauthenticatedError(message);
    case 403:
      return new PermissionDeniedError(message);
    case 404:
      return new NotFoundError(message);
    case 413:
      return new InvalidArgumentError(message, 413);
    case 415:
      return new InvalidArgumentError(message, 415);
    case 422:
      return new InvalidArgumentError(message, 422);
    case 429:
      return new ResourceExhaustedError(message);
    default:
      return new InvalidArgumentError(message, 400);
  }
}

function describeClientError(error: unknown, status: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'Request body is too large';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'Unsupported content type: send application/json';
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'Request body is empty: expected a JSON object';
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) return 'Request body is not valid JSON';
  if (status === 404) return 'Not found';
  const message = error instanceof Error ? error.message : 'Bad request';
  return message || 'Bad request';
}

/** Prisma's codes for a database that cannot be reached or dropped the connection (not a query's fault). */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
const UNAVAILABLE_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['ConnectionClosed', 'DatabaseNotReachable', 'SocketTimeout', 'TooManyConnections']);

/** A backing service (Postgres, Redis) is down or dropped the connection: 503, not 500. */
export function isBackendUnavailable(error: unknown): boolean {
  const failure = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown } } }; cause?: unknown } | null;
  if (!failure || typeof failure !== 'object') return false;
  if (typeof failure.code === 'string' && (UNAVAILABLE_PRISMA_CODES.has(failure.code) || UNAVAILABLE_NETWORK_CODES.has(failure.code))) return true;
  const kind = failure.meta?.driverAdapterError?.cause?.kind;
  if (typeof kind === 'string' && UNAVAILABLE_ADAPTER_KINDS.has(kind)) return true;
  // PrismaClientInitializationError (no connection at all) and errors wrapping a network failure.
  if ((error as Error).name === 'PrismaClientInitializationError') return true;
  return failure.cause !== undefined && failure.cause !== error && isBackendUnavailable(failure.cause);
}

/**
 * Postgres refused a value the client sent (SQLSTATE class 22, data exception: a NUL byte or an invalid
 * character in a name, a number out of range): the request was bad, 400, not 500.
 */
function isInvalidDataError(error: unknown): boolean {
  const cause = (error as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } } } | null)?.meta
    ?.driverAdapterError?.cause;
  const sqlState = cause?.originalCode ?? cause?.code;
  return typeof sqlState === 'string' && sqlState.startsWith('22');
}

/**
 * Any thrown value as the error to answer with: our own errors and framework errors as they are, a backing
 * service that is down as 503, a value Postgres refused (SQLSTATE 22: a NUL byte from the URL…) as 400, and
 * anything else logged and answered as INTERNAL. Shared by the Nest filter and the data-plane routes.
 */
/** What errorToRender logs of a request (a FastifyRequest, or the data plane's front-path call). */
export interface RequestToName {
  readonly id: string;
  readonly routeOptions?: { readonly url?: string };
}

export function errorToRender(exception: unknown, request: RequestToName, logger: Logger): ConiferError {
  const known = toConiferError(exception);
  if (known) return known;
  if (isBackendUnavailable(exception)) return new UnavailableError('A backing service is unavailable; try again shortly');
  if (isInvalidDataError(exception)) {
    return new InvalidArgumentError('The request contains a value that cannot be stored (e.g. a NUL byte or an invalid character)');
  }
  logger.error({ err: exception, reqId: request.id, route: request.routeOptions?.url }, 'unhandled error');
  return new InternalError('Internal error');
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const error = errorToRender(exception, request, this.logger);
    void reply
      .status(error.httpStatus)
      .headers(error.headers())
      .type('application/json')
      .send(isDataPlaneRequest(request) ? grpcErrorBody(error) : restErrorBody(error));
  }
}
