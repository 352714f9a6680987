// Pinecone's control plane: /indexes create, list, describe, configure, delete. Thin: one service call each.
// Names arrive percent-encoded; the router decodes path parameters. Errors render as the REST body.
// Bodies and models follow the request's API version (classic up to 2026-04, schema model from 2026-07).
import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import type { RequestedApiVersion } from '@conifer/contracts';
import { ApiKeyAuth } from '../auth/api-key.guard.js';
import { CurrentPrincipal, type ApiKeyPrincipal } from '../auth/principal.js';
import { RequestApiVersion } from '../common/api-version.js';
import { JsonBody } from '../common/json-body.js';
import type { AnyIndexModel } from './index-model.js';
import { IndexesService } from './indexes.service.js';
import { ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('indexes')
@ApiSecurity('ApiKey')
@Controller('indexes')
export class IndexesController {
  constructor(@Inject(IndexesService) private readonly indexes: IndexesService) {}

  @Doc({ summary: 'Create an index', body: 'CreateIndexRequest', response: 'IndexModel', status: 201 })
  @Post()
  @HttpCode(201)
  @ApiKeyAuth('control:write')
  create(@CurrentPrincipal() principal: ApiKeyPrincipal, @RequestApiVersion() version: RequestedApiVersion, @JsonBody() body: unknown): Promise<AnyIndexModel> {
    return this.indexes.create(principal, body, version);
  }

  @Doc({ summary: 'List indexes', response: 'IndexList' })
  @Get()
  @ApiKeyAuth('control:read')
  list(@CurrentPrincipal() principal: ApiKeyPrincipal, @RequestApiVersion() version: RequestedApiVersion): Promise<{ indexes: AnyIndexModel[] }> {
    return this.indexes.list(principal, version);
  }

  @Doc({ summary: 'Describe an index', response: 'IndexModel' })
  @Get(':name')
  @ApiKeyAuth('control:read')
  describe(
    @CurrentPrincipal() principal: ApiKeyPrincipal,
    @RequestApiVersion() version: RequestedApiVersion,
    @Param('name') name: string,
  ): Promise<AnyIndexModel> {
    return this.indexes.describe(principal, name, version);
  }

  @Doc({ summary: 'Configure deletion protection and tags', body: 'ConfigureIndexRequest', response: 'IndexModel' })
  @Patch(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  configure(
    @CurrentPrincipal() principal: ApiKeyPrincipal,
    @RequestApiVersion() version: RequestedApiVersion,
    @Param('name') name: string,
    @JsonBody() body: unknown,
  ): Promise<AnyIndexModel> {
    return this.indexes.configure(principal, name, body, version);
  }

  @Doc({ summary: 'Delete an index (403 with deletion protection)', status: 202 })
  @Delete(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  async delete(@CurrentPrincipal() principal: ApiKeyPrincipal, @RequestApiVersion() _version: RequestedApiVersion, @Param('name') name: string): Promise<void> {
    await this.indexes.delete(principal, name);
  }
}
