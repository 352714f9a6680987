// Errors both apps answer before any route runs, in one place: what Fastify refuses while routing (a URL it
// cannot decode, a path parameter over the length limit) and what Node's HTTP parser refuses ('clientError':
// bad request line or headers, headers too large, a request that timed out), answered straight on the socket.
// Framework-free: each app passes its Fastify reply or socket and its error shape.
import type { Socket } from 'node:net';
import { InvalidArgumentError, type ConiferError } from './errors.js';

/**
 * Whether an answer to the connection's current request has already started: then an error answer must not
 * be written after it (the peer would read two answers to one request), the socket is only closed. This is
 * the check Node's own default handler makes.
 */
export function answerInFlight(socket: object): boolean {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return inFlight !== undefined && inFlight !== null && inFlight.headersSent === true;
}

/** The error for a request Fastify refused while routing it (its `frameworkErrors` hook), by Fastify's code. */
export function frameworkError(code: string | undefined): InvalidArgumentError {
  return code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? new InvalidArgumentError('A name in the request path is too long')
    : new InvalidArgumentError('The request URL is not valid (bad percent-encoding or characters)');
}

const REASONS = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' } as const;

/**
 * Node's 'clientError' handler: answers a request its parser refused with `render(error, status, requestLine)`
 * as JSON and closes the connection. Nothing is written when the peer is gone, or when an answer to the
 * current request has already started (a request refused early whose body then turns out malformed).
 */
export function answerClientError(
  connectionError: Error,
  socket: Socket,
  render: (error: ConiferError, status: number, requestLine: string) => unknown,
): void {
  const error = connectionError as Error & { code?: string; rawPacket?: Buffer };
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  let status: keyof typeof REASONS = 400;
  let message = 'Malformed HTTP request';
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    status = 431;
    message = 'Request headers (or the URL) are too large';
  } else if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    status = 408;
    message = 'Request timed out';
  }
  const requestLine = error.rawPacket?.subarray(0, 256).toString('latin1').split('\r\n')[0] ?? '';
  const body = JSON.stringify(render(new InvalidArgumentError(message), status, requestLine));
  if (socket.writable && !answerInFlight(socket)) {
    socket.write(
      `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
