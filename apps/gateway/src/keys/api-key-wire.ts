// The admin API's view of a key: Pinecone's APIKey fields (id, name, project_id, roles) plus Conifer's. Never
// the secret or its hash: only the last four characters of the key.
import { rolesAllow } from '@conifer/contracts';
import type { StoredApiKey } from '../auth/api-keys.repository.js';
import { keyStatus, wireKeyStatus } from './key-status.js';

export interface ApiKeyModel {
  id: string;
  name: string;
  project_id: string;
  roles: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_four: string;
  scope: { indexes: string[]; namespaces: string[] };
  rate_limit_per_second: number | null;
  status: 'active' | 'revoked' | 'expired';
  revoked_at: string | null;
  created_by: string | null;
  rotated_from_id: string | null;
  /** What the key's roles say but its scope takes away (omitted when nothing). */
  warnings?: string[];
}

/** A namespace scope confines the key to those namespaces: control-plane writes are refused (ApiKeyGuard). */
const NAMESPACE_SCOPE_WARNING =
  'scope.namespaces confines this key to those namespaces: creating, configuring and deleting indexes is refused although its roles allow it';

export function apiKeyModel(key: StoredApiKey, now: Date = new Date()): ApiKeyModel {
  const model: ApiKeyModel = {
    id: key.id,
    name: key.name,
    project_id: key.projectId,
    roles: [...key.roles],
    created_at: key.createdAt.toISOString(),
    expires_at: key.expiresAt?.toISOString() ?? null,
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    last_four: key.lastFour,
    scope: { indexes: [...key.indexScope], namespaces: [...key.namespaceScope] },
    rate_limit_per_second: key.rateLimitPerSecond,
    status: wireKeyStatus(keyStatus(key, now)),
    revoked_at: key.revokedAt?.toISOString() ?? null,
    created_by: key.createdBy,
    rotated_from_id: key.rotatedFromId,
  };
  if (key.namespaceScope.length > 0 && rolesAllow(key.roles, 'control:write')) model.warnings = [NAMESPACE_SCOPE_WARNING];
  return model;
}
