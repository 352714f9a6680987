// Pinecone's API-key roles and what each allows. Control plane: /indexes. Data plane: everything under an
// index host. As at Pinecone, DataPlane* keys cannot even list or describe indexes.

export const API_KEY_ROLES = [
  'ProjectEditor',
  'ProjectViewer',
  'ControlPlaneEditor',
  'ControlPlaneViewer',
  'DataPlaneEditor',
  'DataPlaneViewer',
] as const;

export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export type Permission = 'control:read' | 'control:write' | 'data:read' | 'data:write';

const GRANTS: Record<ApiKeyRole, readonly Permission[]> = {
  ProjectEditor: ['control:read', 'control:write', 'data:read', 'data:write'],
  ProjectViewer: ['control:read', 'data:read'],
  ControlPlaneEditor: ['control:read', 'control:write'],
  ControlPlaneViewer: ['control:read'],
  DataPlaneEditor: ['data:read', 'data:write'],
  DataPlaneViewer: ['data:read'],
};

export function isApiKeyRole(value: unknown): value is ApiKeyRole {
  return typeof value === 'string' && (API_KEY_ROLES as readonly string[]).includes(value);
}

export function rolesAllow(roles: readonly string[], permission: Permission): boolean {
  return roles.some((role) => isApiKeyRole(role) && GRANTS[role].includes(permission));
}
