// The caller's organization: a service account sees and renames its own organization only.
import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError } from '@conifer/contracts';
import type { AdminContext } from '../admin-auth/admin-context.js';
import { auditOf } from '../audit/audit.js';
import { OrganizationsRepository, type Organization } from '../tenants/organizations.repository.js';

@Injectable()
export class OrganizationsService {
  constructor(@Inject(OrganizationsRepository) private readonly organizations: OrganizationsRepository) {}

  async list(context: AdminContext): Promise<Organization[]> {
    const own = await this.organizations.find(context.organizationId);
    return own ? [own] : [];
  }

  async get(context: AdminContext, id: string): Promise<Organization> {
    const own = id === context.organizationId ? await this.organizations.find(id) : null;
    if (!own) throw new NotFoundError(`Organization ${id} not found`);
    return own;
  }

  async rename(context: AdminContext, id: string, name: string): Promise<Organization> {
    const renamed =
      id === context.organizationId
        ? await this.organizations.rename(id, name, auditOf(context, 'organization.update', 'organization', id, { name }))
        : null;
    if (!renamed) throw new NotFoundError(`Organization ${id} not found`);
    return renamed;
  }
}
