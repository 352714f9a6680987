import { Controller, Delete, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { parseCreateServiceAccountRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { JsonBody } from '../common/json-body.js';
import { serviceAccountModel, type ServiceAccountModel } from './admin-wire.js';
import { ServiceAccountsService } from './service-accounts.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('service-accounts')
@ApiBearerAuth()
@Controller('admin/service-accounts')
@UseGuards(AdminAuthGuard)
export class ServiceAccountsController {
  constructor(@Inject(ServiceAccountsService) private readonly accounts: ServiceAccountsService) {}

  /** The client secret is in this response only. */
  @Doc({ summary: 'Create a service account (client_secret shown once)', body: 'CreateServiceAccountRequest', response: 'ServiceAccountWithSecret', status: 201 })
  @Post()
  @HttpCode(201)
  async create(@CurrentAdmin() admin: AdminContext, @JsonBody() body: unknown): Promise<ServiceAccountModel & { client_secret: string }> {
    const { account, clientSecret } = await this.accounts.create(admin, parseCreateServiceAccountRequest(body).name);
    return { ...serviceAccountModel(account), client_secret: clientSecret };
  }

  @Doc({ summary: 'List service accounts', response: 'ServiceAccountList' })
  @Get()
  async list(@CurrentAdmin() admin: AdminContext): Promise<{ data: ServiceAccountModel[] }> {
    return { data: (await this.accounts.list(admin)).map(serviceAccountModel) };
  }

  @Doc({ summary: 'Describe a service account', response: 'ServiceAccount' })
  @Get(':id')
  async get(@CurrentAdmin() admin: AdminContext, @Param('id') id: string): Promise<ServiceAccountModel> {
    return serviceAccountModel(await this.accounts.get(admin, id));
  }

  @Doc({ summary: 'Delete a service account (its tokens stop working)', status: 202 })
  @Delete(':id')
  @HttpCode(202)
  async delete(@CurrentAdmin() admin: AdminContext, @Param('id') id: string): Promise<void> {
    await this.accounts.delete(admin, id);
  }
}
