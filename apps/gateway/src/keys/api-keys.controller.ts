import { Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { parseCreateApiKeyRequest, parseRotateApiKeyRequest, parseUpdateApiKeyRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin/admin-bearer.strategy.js';
import { CurrentAdmin, JsonBody, parseFlag, type AdminContext } from '../admin/admin-context.js';
import { apiKeyModel, type ApiKeyModel } from './api-key-wire.js';
import { ApiKeysService } from './api-keys.service.js';

@Controller('admin')
@UseGuards(AdminAuthGuard)
export class ApiKeysController {
  constructor(@Inject(ApiKeysService) private readonly keys: ApiKeysService) {}

  /** 201 {key, value}: the full key is in this response only. */
  @Post('projects/:projectId/api-keys')
  @HttpCode(201)
  async mint(@CurrentAdmin() admin: AdminContext, @Param('projectId') projectId: string, @JsonBody() body: unknown): Promise<{ key: ApiKeyModel; value: string }> {
    const { key, value } = await this.keys.mint(admin, projectId, parseCreateApiKeyRequest(body, new Date()));
    return { key: apiKeyModel(key), value };
  }

  /** Revoked keys are hidden unless ?include_revoked=true (expired ones are listed with status "expired"). */
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

  @Get('api-keys/:apiKeyId')
  async get(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string): Promise<ApiKeyModel> {
    return apiKeyModel(await this.keys.get(admin, id));
  }

  @Patch('api-keys/:apiKeyId')
  async update(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string, @JsonBody() body: unknown): Promise<ApiKeyModel> {
    return apiKeyModel(await this.keys.update(admin, id, parseUpdateApiKeyRequest(body, new Date())));
  }

  @Delete('api-keys/:apiKeyId')
  @HttpCode(202)
  async revoke(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string): Promise<void> {
    await this.keys.revoke(admin, id);
  }

  /** 201 {key, value, previous_key:{id, expires_at}}: the successor, shown once; the old key works until expires_at. */
  @Post('api-keys/:apiKeyId/rotate')
  @HttpCode(201)
  async rotate(@CurrentAdmin() admin: AdminContext, @Param('apiKeyId') id: string, @JsonBody({ optional: true }) body: unknown) {
    const { key, value, previous } = await this.keys.rotate(admin, id, parseRotateApiKeyRequest(body));
    return { key: apiKeyModel(key), value, previous_key: { id: previous.id, expires_at: previous.expiresAt!.toISOString() } };
  }
}
