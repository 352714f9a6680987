// Errors Fastify answers itself, before any route or Nest filter runs: URLs that cannot be decoded
// (FST_ERR_BAD_URL), path parameters over the length limit, and requests Node's HTTP parser refuses (bad
// request line or headers, headers too large). The rules are contracts' (shared with the vector store); here
// they are rendered in Pinecone's shape for the route: gRPC-style on the data plane, REST elsewhere.
import type { Socket } from 'node:net';
import { answerClientError, frameworkError, grpcErrorBody, restErrorBody } from '@conifer/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isDataPlaneRequest } from './error.filter.js';

export function frameworkErrors(error: { code?: string }, request: FastifyRequest, reply: FastifyReply): void {
  const conifer = frameworkError(error.code);
  void reply
    .status(conifer.httpStatus)
    .type('application/json')
    .send(isDataPlaneRequest(request) ? grpcErrorBody(conifer) : restErrorBody(conifer));
}

/** Node's parser refused the request: the data plane's shape when its request line names /data/, else REST. */
export function clientErrorHandler(connectionError: Error, socket: Socket): void {
  answerClientError(connectionError, socket, (conifer, status, requestLine) =>
    / \/data\//.test(requestLine) ? grpcErrorBody(conifer) : { ...restErrorBody(conifer), status },
  );
}
