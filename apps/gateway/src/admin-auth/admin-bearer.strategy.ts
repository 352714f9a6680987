// The admin API's passport strategy ('admin-bearer'). Passport keeps strategies in one process-wide registry
// while tests run several gateways in one process, so the strategy holds no state: the guard hands it this
// app's authenticator on the request.
import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { AuthGuard, PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-custom';
import type { FastifyRequest } from 'fastify';
import { AdminAuthenticator, AdminUnauthenticatedError } from './admin-authenticator.js';
import type { AdminPrincipal } from './admin-context.js';

const ADMIN_BEARER_STRATEGY = 'admin-bearer';
const AUTHENTICATOR = Symbol.for('conifer.adminAuthenticator');

type AdminRequest = FastifyRequest & { [AUTHENTICATOR]?: AdminAuthenticator };

@Injectable()
export class AdminBearerStrategy extends PassportStrategy(Strategy, ADMIN_BEARER_STRATEGY) {
  async validate(request: AdminRequest): Promise<AdminPrincipal> {
    const authenticator = request[AUTHENTICATOR];
    if (!authenticator) throw new Error('admin-bearer strategy used without AdminAuthGuard');
    return authenticator.authenticate(request.headers.authorization);
  }
}

@Injectable()
export class AdminAuthGuard extends AuthGuard(ADMIN_BEARER_STRATEGY) {
  constructor(@Inject(AdminAuthenticator) private readonly authenticator: AdminAuthenticator) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    request[AUTHENTICATOR] = this.authenticator;
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(error: unknown, user: T): T {
    if (error) throw error;
    if (!user) throw new AdminUnauthenticatedError('Invalid or expired access token');
    return user;
  }
}
