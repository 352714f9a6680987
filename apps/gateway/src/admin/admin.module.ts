// The admin API: OAuth client-credentials tokens, organizations, projects, service accounts and the audit log's
// routes, all scoped to the caller's organization. API keys live in KeysModule; the bearer strategy in
// AdminAuthModule; the tables in TenantsModule and AuditModule.
import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AdminAuthModule } from '../admin-auth/admin-auth.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { TenantsModule } from '../tenants/tenants.module.js';
import { AuditController } from './audit.controller.js';
import { AuditService } from './audit.service.js';
import { LoginFailuresRepository } from './login-failures.repository.js';
import { LoginThrottle } from './login-throttle.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';
import { OrganizationsController } from './organizations.controller.js';
import { OrganizationsService } from './organizations.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsService } from './projects.service.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsService } from './service-accounts.service.js';

const FORM = 'application/x-www-form-urlencoded';

@Module({
  controllers: [OAuthController, ProjectsController, ServiceAccountsController, OrganizationsController, AuditController],
  imports: [AdminAuthModule, AuditModule, TenantsModule],
  providers: [LoginFailuresRepository, LoginThrottle, OAuthService, ProjectsService, ServiceAccountsService, OrganizationsService, AuditService],
})
export class AdminModule implements OnModuleInit {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  /** POST /oauth/token also takes form bodies (OAuth 2.0 clients send those); admin routes accept JSON only. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify || fastify.hasContentTypeParser(FORM)) return;
    fastify.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
  }
}
