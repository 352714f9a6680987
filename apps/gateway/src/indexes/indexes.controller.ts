// Pinecone's control plane: /indexes create, list, describe, configure, delete. Thin: one service call each.
// Names arrive percent-encoded; the router decodes path parameters. Errors render as the REST body.
import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post } from '@nestjs/common';
import { ApiKeyAuth } from '../auth/api-key.guard.js';
import { CurrentPrincipal, type ApiKeyPrincipal } from '../auth/principal.js';
import { JsonBody } from '../common/json-body.js';
import type { IndexModel } from './index-model.js';
import { IndexesService } from './indexes.service.js';

@Controller('indexes')
export class IndexesController {
  constructor(@Inject(IndexesService) private readonly indexes: IndexesService) {}

  @Post()
  @HttpCode(201)
  @ApiKeyAuth('control:write')
  create(@CurrentPrincipal() principal: ApiKeyPrincipal, @JsonBody() body: unknown): Promise<IndexModel> {
    return this.indexes.create(principal, body);
  }

  @Get()
  @ApiKeyAuth('control:read')
  list(@CurrentPrincipal() principal: ApiKeyPrincipal): Promise<{ indexes: IndexModel[] }> {
    return this.indexes.list(principal);
  }

  @Get(':name')
  @ApiKeyAuth('control:read')
  describe(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string): Promise<IndexModel> {
    return this.indexes.describe(principal, name);
  }

  @Patch(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  configure(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string, @JsonBody() body: unknown): Promise<IndexModel> {
    return this.indexes.configure(principal, name, body);
  }

  @Delete(':name')
  @HttpCode(202)
  @ApiKeyAuth('control:write')
  async delete(@CurrentPrincipal() principal: ApiKeyPrincipal, @Param('name') name: string): Promise<void> {
    await this.indexes.delete(principal, name);
  }
}
