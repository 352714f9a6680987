// Errors Fastify answers itself, before any route or Nest filter runs: URLs that cannot be decoded
// (FST_ERR_BAD_URL), path parameters over the length limit, and requests Node's HTTP parser refuses (bad
// request line or headers, headers too large). Rendered here in Pinecone's shape like every other error.
import type { Socket } from 'node:net';
import { answerInFlight, grpcErrorBody, InvalidArgumentError, restErrorBody, type ConiferError } from '@conifer/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDataPlaneRequest } from './error.filter.js';

export function frameworkErrors(error: { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const conifer =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new InvalidArgumentError('A name in the request path is too long')
      : new InvalidArgumentError('The request URL is not valid (bad percent-encoding or characters)');
  void reply
    .status(conifer.httpStatus)
    .type('application/json')
    .send(isDataPlaneRequest(request) ? grpcErrorBody(conifer) : restErrorBody(conifer));
}

/** Node's parser refused the request: answer in the REST or data-plane shape (by the request line) and close. */
export function clientErrorHandler(connectionError: Error, socket: Socket): void {
  const error = connectionError as Error & { code?: string; rawPacket?: Buffer };
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status = 400;
  let message = 'Malformed HTTP request';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'Request headers (or the URL) are too large';
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'Request timed out';
  }
  const conifer: ConiferError = new InvalidArgumentError(message);
  const firstLine = error.rawPacket?.subarray(0, 256).toString('latin1').split('\r\n')[0] ?? '';
  const dataPlane = / \/data\//.test(firstLine);
  const body = JSON.stringify(dataPlane ? grpcErrorBody(conifer) : { ...restErrorBody(conifer), status });
  // Only when no answer to the current request has started (as Node's own handler does): a request refused
  // early whose body then turns out malformed must not get a second answer after the first.
  if (socket.writable && !answerInFlight(socket)) {
    socket.write(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}
