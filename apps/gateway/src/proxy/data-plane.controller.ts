// Pinecone's data plane (DESIGN §4) under the index host: /data/<projectId>/<indexName>/<operation>, or
// /<operation> on a Host of its own (<indexName>-<projectId>.<suffix>). Lean on purpose: no pipes, no
// interceptors; the guard authenticates, the proxy forwards the bytes and writes the store's answer itself.
import { Controller, Delete, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyAuth } from '../auth/api-key.guard.js';
import { CurrentPrincipal, type ApiKeyPrincipal } from '../auth/principal.js';
import { DataPlaneProxy } from './data-plane.proxy.js';
import { OPERATIONS } from './operations.js';

const PREFIX = 'data/:projectId/:indexName';
const paths = (path: string) => [`${PREFIX}/${path}`, path];

@Controller()
export class DataPlaneController {
  constructor(@Inject(DataPlaneProxy) private readonly proxy: DataPlaneProxy) {}

  @Post(paths('vectors/upsert'))
  @ApiKeyAuth('data:write')
  upsert(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.upsert, request, reply);
  }

  @Post(paths('query'))
  @ApiKeyAuth('data:read')
  query(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.query, request, reply);
  }

  @Get(paths('vectors/fetch'))
  @ApiKeyAuth('data:read')
  fetch(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.fetch, request, reply);
  }

  @Post(paths('vectors/fetch_by_metadata'))
  @ApiKeyAuth('data:read')
  fetchByMetadata(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.fetchByMetadata, request, reply);
  }

  @Post(paths('vectors/update'))
  @ApiKeyAuth('data:write')
  update(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.update, request, reply);
  }

  @Post(paths('vectors/delete'))
  @ApiKeyAuth('data:write')
  deleteVectors(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.delete, request, reply);
  }

  @Get(paths('vectors/list'))
  @ApiKeyAuth('data:read')
  list(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.list, request, reply);
  }

  @Post(paths('describe_index_stats'))
  @ApiKeyAuth('data:read')
  describeIndexStats(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.describeIndexStats, request, reply);
  }

  @Get(paths('describe_index_stats'))
  @ApiKeyAuth('data:read')
  describeIndexStatsGet(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.describeIndexStats, request, reply);
  }

  @Get(paths('namespaces'))
  @ApiKeyAuth('data:read')
  listNamespaces(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.listNamespaces, request, reply);
  }

  @Post(paths('namespaces'))
  @ApiKeyAuth('data:write')
  createNamespace(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.createNamespace, request, reply);
  }

  @Get(paths('namespaces/:namespace'))
  @ApiKeyAuth('data:read')
  describeNamespace(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.describeNamespace, request, reply);
  }

  @Delete(paths('namespaces/:namespace'))
  @ApiKeyAuth('data:write')
  deleteNamespace(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.deleteNamespace, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/upsert'))
  @ApiKeyAuth('data:write')
  upsertDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.upsertDocuments, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/fetch'))
  @ApiKeyAuth('data:read')
  fetchDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.fetchDocuments, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/list'))
  @ApiKeyAuth('data:read')
  listDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.listDocuments, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/search'))
  @ApiKeyAuth('data:read')
  searchDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.searchDocuments, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/update'))
  @ApiKeyAuth('data:write')
  updateDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.updateDocuments, request, reply);
  }

  @Post(paths('namespaces/:namespace/documents/delete'))
  @ApiKeyAuth('data:write')
  deleteDocuments(@CurrentPrincipal() principal: ApiKeyPrincipal, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.proxy.forward(principal, OPERATIONS.deleteDocuments, request, reply);
  }
}
