// The tenant tables (organizations, projects, service accounts) and first-start provisioning. Shared by the
// admin API, admin authentication and API-key administration, which never import one another.
import { Module } from '@nestjs/common';
import { BootstrapRepository } from './bootstrap.repository.js';
import { OrganizationsRepository } from './organizations.repository.js';
import { ProjectsRepository } from './projects.repository.js';
import { ServiceAccountsRepository } from './service-accounts.repository.js';

const repositories = [OrganizationsRepository, ProjectsRepository, ServiceAccountsRepository, BootstrapRepository];

@Module({ providers: repositories, exports: repositories })
export class TenantsModule {}
