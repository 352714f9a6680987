import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { parseCreateApiKeyRequest, parseRotateApiKeyRequest, parseUpdateApiKeyRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { JsonBody } from '../common/json-body.js';
import { parseFlag } from '../common/request-params.js';
import { apiKeyModel, type ApiKeyModel } from './api-key-wire.js';
import { ApiKeysService } from './api-keys.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('api-keys')
@ApiBearerAuth()
@Controller('admin')
@UseGuards(AdminAuthGuard)
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  /** 201 {key, value}: the full key is in this response only. */
  @Doc({ summary: 'Mint an API key (its value is shown once)', body: 'CreateApiKeyRequest', response: 'ApiKeyWithSecret', status: 201 })
  @Post('projects/:projectId/api-keys')
  @HttpCode(201)
  async mint(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @JsonBody() body: unknown): Promise<{ key: ApiKeyModel; value: string }> {
    const { key, value } = await this.keys.mint(admin, projectId, parseCreateApiKeyRequest(body, new Date()));
    return { key: apiKeyModel(key), value };
  }

  /** Revoked keys are hidden unless ?include_revoked=true (expired ones are listed with status "expired"). */
  @Doc({ summary: 'List a project\'s API keys', response: 'ApiKeyList', query: [{ name: 'include_revoked', description: 'also list revoked keys', type: 'boolean' }] })
  @Get('projects/:projectId/api-keys')
  async list(
    @CurrentAdmin() admin: AdminContext,
    @Param('projectId') projectId: string,
    @Query('include_revoked') includeRevoked: unknown,
  ): Promise<{ data: ApiKeyModel[] }> {
    const now = new Date();
    const keys = await this.keys.list(admin, projectId, parseFlag(includeRevoked, 'include_revoked'));
    return { data: keys.map((key) => apiKeyModel(key, now)) };
  }

  @Doc({ summary: 'Describe an API key', response: 'ApiKey' })
  @Get('api-keys/:apiKeyId')
  async get(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string): Promise<ApiKeyModel> {
    return apiKeyModel(await this.keys.get(admin, id));
  }

  @Doc({ summary: 'Update an API key', body: 'UpdateApiKeyRequest', response: 'ApiKey' })
  @Patch('api-keys/:apiKeyId')
  async update(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string, @JsonBody() body: unknown): Promise<ApiKeyModel> {
    return apiKeyModel(await this.keys.update(admin, id, parseUpdateApiKeyRequest(body, new Date())));
  }

  @Doc({ summary: 'Revoke an API key', status: 202 })
  @Delete('api-keys/:apiKeyId')
  @HttpCode(202)
  async revoke(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string): Promise<void> {
    await this.keys.revoke(admin, id);
  }

  /** 201 {key, value, previous_key:{id, expires_at}}: the successor, shown once; the old key works until expires_at. */
  @Doc({ summary: 'Rotate an API key (the old one works until the grace period ends)', body: 'RotateApiKeyRequest', bodyRequired: false, response: 'RotatedApiKey', status: 201 })
  @Post('api-keys/:apiKeyId/rotate')
  @HttpCode(201)
  async rotate(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string, @JsonBody({ optional: true }) body: unknown) {
    const { key, value, previous } = await this.keys.rotate(admin, id, parseRotateApiKeyRequest(body));
    return { key: apiKeyModel(key), value, previous_key: { id: previous.id, expires_at: previous.expiresAt!.toISOString() } };
  }
}
