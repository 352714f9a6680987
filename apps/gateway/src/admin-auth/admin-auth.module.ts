// Admin API authentication: bearer tokens from POST /oauth/token, checked by AdminAuthGuard on every admin route
// (the admin, keys and usage features import this module for the guard).
import { Module } from '@nestjs/common';
import { TenantsModule } from '../tenants/tenants.module.js';
import { AdminAuthenticator } from './admin-authenticator.js';
import { AdminBearerStrategy } from './admin-bearer.strategy.js';

@Module({
  imports: [TenantsModule],
  providers: [AdminAuthenticator, AdminBearerStrategy],
  exports: [AdminAuthenticator],
})
export class AdminAuthModule {}
