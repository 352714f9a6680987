// One guard for every route that takes an API key: passport's Api-Key strategy resolves the caller, then the
// route's @RequirePermission is checked against the key's roles. Scope helpers for index/namespace checks
// are re-exported here for the routes that know which index or namespace they touch.
import { applyDecorators, Inject, Injectable, UseGuards, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { PermissionDeniedError, rolesAllow, UnauthenticatedError, type Permission } from '@conifer/contracts';
import { API_KEY_STRATEGY, REQUEST_THROTTLE, REQUEST_VERIFIER } from './api-key.strategy.js';
import { KeyFailureThrottle } from './key-failure-throttle.js';
import { KeyVerifier } from './key-verifier.js';
import { PERMISSION_METADATA, RequirePermission, type ApiKeyPrincipal } from './principal.js';

/**
 * A key confined to some namespaces must not create, configure or delete whole indexes (deleting an index
 * deletes every namespace in it): control-plane writes are refused whatever its roles say.
 */
const NAMESPACE_SCOPED_CONTROL_WRITE =
  'This API key is limited to some namespaces: it cannot create, configure or delete indexes';

export { assertIndexInScope, assertNamespaceInScope,  namespaceInScope } from './scope.js';

@Injectable()
export class ApiKeyGuard extends AuthGuard(API_KEY_STRATEGY) {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(KeyVerifier) private readonly verifier: KeyVerifier,
    @Inject(KeyFailureThrottle) private readonly throttle: KeyFailureThrottle,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context
      .switchToHttp()
      .getRequest<{ user?: ApiKeyPrincipal; [REQUEST_VERIFIER]?: KeyVerifier; [REQUEST_THROTTLE]?: KeyFailureThrottle }>();
    request[REQUEST_VERIFIER] = this.verifier;
    request[REQUEST_THROTTLE] = this.throttle;
    await super.canActivate(context);
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_METADATA, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (permission && !rolesAllow(request.user!.roles, permission)) {
      throw new PermissionDeniedError(`This API key's roles do not allow this operation (${permission} required)`);
    }
    if (permission === 'control:write' && request.user!.namespaceScope.length > 0) {
      throw new PermissionDeniedError(NAMESPACE_SCOPED_CONTROL_WRITE);
    }
    return true;
  }

  override handleRequest<TUser = ApiKeyPrincipal>(error: unknown, user: TUser | false | null): TUser {
    if (error) throw error;
    if (!user) throw new UnauthenticatedError('Invalid API key');
    return user;
  }
}

/** Api-Key authentication plus the permission the route needs. */
export const ApiKeyAuth = (permission: Permission) => applyDecorators(RequirePermission(permission), UseGuards(ApiKeyGuard));
