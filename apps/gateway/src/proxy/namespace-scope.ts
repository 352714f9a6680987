// Namespace scope on the data plane, for keys limited to some namespaces (the only case in which a body is
// parsed by the gateway). The scope test itself is the auth module's namespaceInScope ("", a missing namespace
// and "__default__" are the same namespace).
import {
  decodePaginationToken,
  displayNamespace,
  encodePaginationToken,
  jsonObjectBody,
  normalizeNamespace,
  parseListNamespacesQuery,
  queryField,
  type ListNamespacesRequest,
  type ListNamespacesResponse,
  type QueryParams,
} from '@conifer/contracts';
import type { NamespaceSource } from './operations.js';

/**
 * The namespace a request touches ("" for the default one; undefined for listings, which are filtered instead),
 * read with the very reader and normaliser the vector store's parsers use: a repeated ?namespace=, a body that
 * is not a JSON object or a namespace that is not a valid name is refused here exactly as the store would.
 */
export function requestedNamespace(
  source: NamespaceSource,
  request: { body?: unknown; query?: unknown; params?: unknown },
): string | undefined {
  switch (source) {
    case 'body':
      return normalizeNamespace(jsonObjectBody(request.body).namespace);
    case 'body-name':
      return normalizeNamespace(jsonObjectBody(request.body).name);
    case 'query':
      return normalizeNamespace(queryField(request.query as QueryParams | undefined, 'namespace'));
    case 'path':
      return normalizeNamespace((request.params as Record<string, unknown> | undefined)?.namespace);
    case 'response':
      return undefined;
  }
}

/**
 * Narrows a successful listing (describe_index_stats, GET /namespaces) to the key's namespaces, so a scoped key
 * never learns about the others; counts are recomputed from what remains.
 */
export function filterNamespaceListing(operation: string, allowed: (namespace: string) => boolean, body: Buffer): Buffer {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return body;
  }
  if (operation === 'describe_index_stats' && parsed.namespaces && typeof parsed.namespaces === 'object') {
    const kept = Object.entries(parsed.namespaces as Record<string, { vectorCount?: number }>).filter(([name]) =>
      allowed(name),
    );
    parsed.namespaces = Object.fromEntries(kept);
    parsed.totalVectorCount = kept.reduce((sum, [, stats]) => sum + (stats?.vectorCount ?? 0), 0);
  } else if (operation === 'list_namespaces' && Array.isArray(parsed.namespaces)) {
    parsed.namespaces = (parsed.namespaces as { name?: string }[]).filter((entry) => allowed(entry?.name ?? ''));
    parsed.total_count = (parsed.namespaces as unknown[]).length;
  }
  return Buffer.from(JSON.stringify(parsed));
}

/**
 * GET /namespaces for a namespace-scoped key: the store's page would be cut before filtering (an empty page whose
 * pagination token names a hidden namespace), so the gateway asks the store for its whole namespace table
 * (`scopedListingUpstream`, i.e. describe_index_stats) and paginates over the namespaces the key may see, exactly
 * as the store paginates (sorted by name, token = the last name returned, `total_count` over the filtered list).
 * The query is parsed by the store's own parser first (a bad limit or a repeated parameter is a 400 here).
 */
export function parseScopedListingQuery(query: unknown): ListNamespacesRequest {
  return parseListNamespacesQuery((query ?? {}) as QueryParams);
}

/** What the gateway asks the store instead of GET /namespaces for a scoped key. */
export const scopedListingUpstream = { method: 'POST', path: '/describe_index_stats', body: '{}', contentType: 'application/json' } as const;

export function scopedNamespacePage(request: ListNamespacesRequest, allowed: (namespace: string) => boolean, statsBody: Buffer): Buffer {
  const stats = JSON.parse(statsBody.toString('utf8')) as { namespaces?: Record<string, { vectorCount?: number }> };
  const names = Object.entries(stats.namespaces ?? {})
    .filter(([name]) => allowed(name))
    .map(([name, entry]) => ({ name: displayNamespace(name), record_count: entry?.vectorCount ?? 0 }))
    .filter((entry) => entry.name.startsWith(request.prefix))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const after = request.paginationToken === undefined ? undefined : decodePaginationToken(request.paginationToken);
  const next = after === undefined ? 0 : names.findIndex((entry) => entry.name > after);
  const start = next === -1 ? names.length : next;
  const page = names.slice(start, start + request.limit);
  const response: ListNamespacesResponse = { namespaces: page, total_count: names.length };
  if (start + request.limit < names.length) response.pagination = { next: encodePaginationToken(page[page.length - 1]!.name) };
  return Buffer.from(JSON.stringify(response));
}
