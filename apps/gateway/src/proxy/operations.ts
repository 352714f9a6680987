// The data-plane operations the gateway serves (DESIGN §4): one row each, with its HTTP method, its route below
// the index host (Fastify syntax), the permission it needs and where the namespace it touches is found (for keys
// scoped to namespaces). The routes are registered from this table (data-plane.routes.ts), under
// /data/<projectId>/<indexName> and on an index host of their own; the store serves the same route under
// /internal/indexes/<indexId> (path parameters are forwarded percent-encoded, the query string as received).
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

type DataPlaneMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface DataPlaneOperation {
  readonly name: string;
  readonly method: DataPlaneMethod;
  /** Route below the index host, e.g. '/namespaces/:namespace'. */
  readonly route: string;
  readonly permission: Permission;
  readonly namespace: NamespaceSource;
}

const op = (
  name: string,
  method: DataPlaneMethod,
  route: string,
  permission: Permission,
  namespace: NamespaceSource,
): DataPlaneOperation => ({ name, method, route, permission, namespace });

export const OPERATIONS = {
  upsert: op('upsert', 'POST', '/vectors/upsert', 'data:write', 'body'),
  query: op('query', 'POST', '/query', 'data:read', 'body'),
  fetch: op('fetch', 'GET', '/vectors/fetch', 'data:read', 'query'),
  fetchByMetadata: op('fetch_by_metadata', 'POST', '/vectors/fetch_by_metadata', 'data:read', 'body'),
  update: op('update', 'POST', '/vectors/update', 'data:write', 'body'),
  delete: op('delete', 'POST', '/vectors/delete', 'data:write', 'body'),
  list: op('list', 'GET', '/vectors/list', 'data:read', 'query'),
  describeIndexStats: op('describe_index_stats', 'POST', '/describe_index_stats', 'data:read', 'response'),
  describeIndexStatsGet: op('describe_index_stats', 'GET', '/describe_index_stats', 'data:read', 'response'),
  listNamespaces: op('list_namespaces', 'GET', '/namespaces', 'data:read', 'response'),
  createNamespace: op('create_namespace', 'POST', '/namespaces', 'data:write', 'body-name'),
  describeNamespace: op('describe_namespace', 'GET', '/namespaces/:namespace', 'data:read', 'path'),
  deleteNamespace: op('delete_namespace', 'DELETE', '/namespaces/:namespace', 'data:write', 'path'),
  // 2026-07 documents API: POST /namespaces/{namespace}/documents/<operation>
  upsertDocuments: op('upsert_documents', 'POST', '/namespaces/:namespace/documents/upsert', 'data:write', 'path'),
  fetchDocuments: op('fetch_documents', 'POST', '/namespaces/:namespace/documents/fetch', 'data:read', 'path'),
  listDocuments: op('list_documents', 'POST', '/namespaces/:namespace/documents/list', 'data:read', 'path'),
  searchDocuments: op('search_documents', 'POST', '/namespaces/:namespace/documents/search', 'data:read', 'path'),
  updateDocuments: op('update_documents', 'POST', '/namespaces/:namespace/documents/update', 'data:write', 'path'),
  deleteDocuments: op('delete_documents', 'POST', '/namespaces/:namespace/documents/delete', 'data:write', 'path'),
} as const satisfies Record<string, DataPlaneOperation>;
