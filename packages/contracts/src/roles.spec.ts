import { describe, expect, it } from '@jest/globals';
import { isApiKeyRole, rolesAllow } from './roles.js';

describe('roles', () => {
  it('grants as Pinecone does', () => {
    expect(rolesAllow(['ProjectEditor'], 'data:write')).toBe(true);
    expect(rolesAllow(['ProjectViewer'], 'control:write')).toBe(false);
    expect(rolesAllow(['ProjectViewer'], 'data:read')).toBe(true);
    expect(rolesAllow(['DataPlaneEditor'], 'control:read')).toBe(false);
    expect(rolesAllow(['ControlPlaneViewer'], 'data:read')).toBe(false);
    expect(rolesAllow(['ControlPlaneViewer', 'DataPlaneViewer'], 'data:read')).toBe(true);
    expect(rolesAllow(['Admin'], 'control:read')).toBe(false);
  });

  it('recognises role names exactly', () => {
    expect(isApiKeyRole('ProjectEditor')).toBe(true);
    expect(isApiKeyRole('projecteditor')).toBe(false);
  });
});
