// The admin API: OAuth client-credentials tokens, the admin bearer strategy, organizations, projects, service
// accounts and the audit log, all scoped to the caller's organization. API keys live in KeysModule.
import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AdminAuthenticator } from './admin-authenticator.js';
import { AdminBearerStrategy } from './admin-bearer.strategy.js';
import { AuditController } from './audit.controller.js';
import { AuditRepository } from './audit.repository.js';
import { AuditService } from './audit.service.js';
import { BootstrapRepository } from './bootstrap.repository.js';
import { LoginFailuresRepository } from './login-failures.repository.js';
import { LoginThrottle } from './login-throttle.js';
import { OAuthController } from './oauth.controller.js';
import { OAuthService } from './oauth.service.js';
import { OrganizationsController } from './organizations.controller.js';
import { OrganizationsRepository } from './organizations.repository.js';
import { OrganizationsService } from './organizations.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsRepository } from './projects.repository.js';
import { ProjectsService } from './projects.service.js';
import { ServiceAccountsController } from './service-accounts.controller.js';
import { ServiceAccountsRepository } from './service-accounts.repository.js';
import { ServiceAccountsService } from './service-accounts.service.js';

const FORM = 'application/x-www-form-urlencoded';

@Module({
  controllers: [OAuthController, ProjectsController, ServiceAccountsController, OrganizationsController, AuditController],
  providers: [
    AuditRepository,
    ServiceAccountsRepository,
    ProjectsRepository,
    OrganizationsRepository,
    AdminAuthenticator,
    AdminBearerStrategy,
    LoginFailuresRepository,
    LoginThrottle,
    OAuthService,
    ProjectsService,
    ServiceAccountsService,
    OrganizationsService,
    AuditService,
    BootstrapRepository,
  ],
  exports: [AdminAuthenticator, ProjectsRepository, ServiceAccountsRepository, AuditRepository, BootstrapRepository],
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
