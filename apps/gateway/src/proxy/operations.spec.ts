import { describe, expect, it } from '@jest/globals';
import { OPERATIONS } from './operations.js';

describe('data-plane operations: documents API (2026-07)', () => {
  it('are namespace-in-path operations with read or write permission', () => {
    const documents = Object.values(OPERATIONS).filter((op) => op.route.includes('/documents/'));
    expect(documents.map((op) => [op.name, op.permission, op.namespace, op.method, op.route])).toEqual([
      ['upsert_documents', 'data:write', 'path', 'POST', '/namespaces/:namespace/documents/upsert'],
      ['fetch_documents', 'data:read', 'path', 'POST', '/namespaces/:namespace/documents/fetch'],
      ['list_documents', 'data:read', 'path', 'POST', '/namespaces/:namespace/documents/list'],
      ['search_documents', 'data:read', 'path', 'POST', '/namespaces/:namespace/documents/search'],
      ['update_documents', 'data:write', 'path', 'POST', '/namespaces/:namespace/documents/update'],
      ['delete_documents', 'data:write', 'path', 'POST', '/namespaces/:namespace/documents/delete'],
    ]);
  });
});
