// Pinecone's control plane: /indexes create, list, describe, configure, delete. Thin: one service call each.
// Names arrive percent-encoded; the router decodes path parameters. Errors render as the REST body.
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiKeyAuth } from '../auth/api-key.guard.js';
import { CurrentPrincipal, type ApiKeyPrincipal } from '../auth/principal.js';
import type { IndexModel } from './index-model.js';
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
  create(@CurrentPrincipal() principal: ApiKeyPrincipal, @Body() body: unknown): Promise<IndexModel> {
    return this.indexes.create(principal, body);
  }

  @Doc({ summary: 'List indexes', response: 'IndexList' })
  @Get()
  @ApiKeyAuth('control:read')
  list(@CurrentPrincipal() principal: ApiKeyPrincipal): Promise<{ indexes: IndexModel[] }> {
    return this.indexes.list(principal);
  }

  @Doc({ summary: 'Describe an index', response: 'IndexModel' })
  @Get(':name')
  @ApiKeyAuth('control:read')
  describe(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string): Promise<IndexModel> {
    return this.indexes.describe(principal, name);
  }

  @Doc({ summary: 'Configure deletion protection and tags', body: 'ConfigureIndexRequest', response: 'IndexModel' })
  @Patch(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  configure(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string, @Body() body: unknown): Promise<IndexModel> {
    return this.indexes.configure(principal, name, body);
  }

  @Doc({ summary: 'Delete an index (403 with deletion protection)', status: 202 })
  @Delete(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  async delete(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string): Promise<void> {
    await this.indexes.delete(principal, name);
  }
}
