// Who is calling the application API: the verified API key's project, roles and scope. The Api-Key passport
// strategy attaches it to the request; controllers receive it through the @CurrentPrincipal() decorator.
import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Permission } from '@conifer/contracts';

export interface ApiKeyPrincipal {
  /** Catalog id of the key (admin API id). */
  readonly apiKeyId: string;
  /** Public id embedded in the key string. */
  readonly keyId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
  /** Empty: every index of the project. */
  readonly indexScope: readonly string[];
  /** Empty: every namespace. */
  readonly namespaceScope: readonly string[];
  readonly rateLimitPerSecond: number | null;
  readonly expiresAt: Date | null;
}

export const PERMISSION_METADATA = 'conifer:permission';

/** The permission a route needs; the API-key guard checks the principal's roles against it. */
export const RequirePermission = (permission: Permission) => SetMetadata(PERMISSION_METADATA, permission);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): ApiKeyPrincipal => {
  const request = context.switchToHttp().getRequest<{ user?: ApiKeyPrincipal }>();
  if (!request.user) throw new Error('CurrentPrincipal used on a route without API-key authentication');
  return request.user;
});
