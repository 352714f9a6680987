import { Controller, Get, Inject, Param, Patch, UseGuards } from '@nestjs/common';
import { parseUpdateOrganizationRequest } from '@conifer/contracts';
import { AdminAuthGuard } from '../admin-auth/admin-bearer.strategy.js';
import { CurrentAdmin, type AdminContext } from '../admin-auth/admin-context.js';
import { JsonBody } from '../common/json-body.js';
import { organizationModel } from './admin-wire.js';
import { OrganizationsService } from './organizations.service.js';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Doc } from '../openapi/doc.decorator.js';

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('admin/organizations')
@UseGuards(AdminAuthGuard)
export class OrganizationsController {
  constructor(@Inject(OrganizationsService) private readonly organizations: OrganizationsService) {}

  @Doc({ summary: 'List organizations (the caller\'s)', response: 'OrganizationList' })
  @Get()
  async list(@CurrentAdmin() admin: AdminContext) {
    return { data: (await this.organizations.list(admin)).map(organizationModel) };
  }

  @Doc({ summary: 'Describe an organization', response: 'Organization' })
  @Get(':organizationId')
  async get(@CurrentAdmin() admin: AdminContext, @Param('organizationId') id: string) {
    return organizationModel(await this.organizations.get(admin, id));
  }

  @Doc({ summary: 'Rename an organization', body: 'UpdateOrganizationRequest', response: 'Organization' })
  @Patch(':organizationId')
  async update(@CurrentAdmin() admin: AdminContext, @Param('organizationId') id: string, @JsonBody() body: unknown) {
    return organizationModel(await this.organizations.rename(admin, id, parseUpdateOrganizationRequest(body).name));
  }
}
