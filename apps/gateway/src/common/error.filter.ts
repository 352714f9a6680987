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

@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    let error = toConiferError(exception);
    if (!error) {
      const failure = exception as { code?: string };
      if (failure?.code === 'ECONNREFUSED' || failure?.code === 'P1001') {
        error = new UnavailableError('A backing service is unavailable; try again shortly');
      } else {
        this.logger.error({ err: exception, reqId: request.id, route: request.routeOptions?.url }, 'unhandled error');
        error = new InternalError('Internal error');
      }
    }
    void reply
      .status(error.httpStatus)
      .headers(error.headers())
      .type('application/json')
      .send(isDataPlaneRequest(request) ? grpcErrorBody(error) : restErrorBody(error));
  }
}
