// The data-plane operations the gateway forwards (DESIGN §4), each with the permission it needs and where
// the namespace it touches is found (for keys scoped to namespaces). Paths are relative to the index host and
// identical under /internal/indexes/<indexId> on the vector store.
import type { Permission } from '@conifer/contracts';

export type NamespaceSource =
  /** body.namespace (missing: the default namespace) */
  | 'body'
  /** ?namespace= */
  | 'query'
  /** body.name (POST /namespaces) */
  | 'body-name'
  /** the :namespace path parameter */
  | 'path'
  /** the response lists namespaces: filter it down to the key's scope */
  | 'response';

export interface DataPlaneOperation {
  readonly name: string;
  readonly path: string;
  readonly permission: Permission;
  readonly namespace: NamespaceSource;
  /** Path after the :namespace parameter (documents API), when the namespace is in the path. */
  readonly pathSuffix?: string;
}

const op = (name: string, path: string, permission: Permission, namespace: NamespaceSource, pathSuffix?: string): DataPlaneOperation => ({
  name,
  path,
  permission,
  namespace,
  ...(pathSuffix === undefined ? {} : { pathSuffix }),
});

export const OPERATIONS = {
  upsert: op('upsert', '/vectors/upsert', 'data:write', 'body'),
  query: op('query', '/query', 'data:read', 'body'),
  fetch: op('fetch', '/vectors/fetch', 'data:read', 'query'),
  fetchByMetadata: op('fetch_by_metadata', '/vectors/fetch_by_metadata', 'data:read', 'body'),
  update: op('update', '/vectors/update', 'data:write', 'body'),
  delete: op('delete', '/vectors/delete', 'data:write', 'body'),
  list: op('list', '/vectors/list', 'data:read', 'query'),
  describeIndexStats: op('describe_index_stats', '/describe_index_stats', 'data:read', 'response'),
  listNamespaces: op('list_namespaces', '/namespaces', 'data:read', 'response'),
  createNamespace: op('create_namespace', '/namespaces', 'data:write', 'body-name'),
  describeNamespace: op('describe_namespace', '/namespaces', 'data:read', 'path'),
  deleteNamespace: op('delete_namespace', '/namespaces', 'data:write', 'path'),
  // 2026-07 documents API: POST /namespaces/{namespace}/documents/<operation>
  upsertDocuments: op('upsert_documents', '/namespaces', 'data:write', 'path', '/documents/upsert'),
  fetchDocuments: op('fetch_documents', '/namespaces', 'data:read', 'path', '/documents/fetch'),
  listDocuments: op('list_documents', '/namespaces', 'data:read', 'path', '/documents/list'),
  searchDocuments: op('search_documents', '/namespaces', 'data:read', 'path', '/documents/search'),
  updateDocuments: op('update_documents', '/namespaces', 'data:write', 'path', '/documents/update'),
  deleteDocuments: op('delete_documents', '/namespaces', 'data:write', 'path', '/documents/delete'),
} as const;
