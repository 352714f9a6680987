// One renderer for every error: ConiferError → its HTTP status and the gRPC-style body; Fastify's own
// client errors (body too large, wrong content type, bad JSON) → InvalidArgumentError with 413/415/400;
// anything else is logged and answered 500 INTERNAL.
import { grpcErrorBody, InternalError, InvalidArgumentError, isConiferError, NotFoundError, type ConiferError } from '@conifer/contracts';
import type { FastifyError, FastifyInstance } from 'fastify';

function clientError(error: FastifyError): ConiferError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new InvalidArgumentError('request body is larger than the limit', 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InvalidArgumentError('content type must be application/json', 415);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InvalidArgumentError('content length does not match the body', 400);
    default:
      break;
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const mapped = status === 413 || status === 415 || status === 422 ? status : 400;
    return new InvalidArgumentError(error.message, mapped);
  }
  return undefined;
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let conifer: ConiferError;
    if (isConiferError(error)) conifer = error;
    else {
      const mapped = clientError(error);
      if (mapped) conifer = mapped;
      else {
        request.log.error({ err: error }, 'unhandled error');
        conifer = new InternalError('internal error');
      }
    }
    void reply.code(conifer.httpStatus).headers(conifer.headers()).send(grpcErrorBody(conifer));
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new NotFoundError(`no route for ${request.method} ${request.url.split('?')[0]}`);
    void reply.code(404).send(grpcErrorBody(error));
  });
}
