// Namespace scope on the data plane, for keys limited to some namespaces (the only case in which a body is
// parsed by the gateway). "", a missing namespace and "__default__" are the same namespace.
import { InvalidArgumentError, PermissionDeniedError } from '@conifer/contracts';
import type { NamespaceSource } from './operations.js';

const DEFAULT_NAMESPACE = '__default__';

export function canonicalNamespace(namespace: unknown): string {
  return namespace === undefined || namespace === null || namespace === '' ? DEFAULT_NAMESPACE : String(namespace);
}

export function namespaceAllowed(scope: readonly string[], namespace: unknown): boolean {
  if (scope.length === 0) return true;
  const wanted = canonicalNamespace(namespace);
  return scope.some((allowed) => canonicalNamespace(allowed) === wanted);
}

function parseBody(body: unknown): Record<string, unknown> {
  let value = body;
  if (Buffer.isBuffer(value)) {
    if (value.length === 0) return {};
    try {
      value = JSON.parse(value.toString('utf8'));
    } catch {
      throw new InvalidArgumentError('Request body is not valid JSON');
    }
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('Request body must be a JSON object');
  return value as Record<string, unknown>;
}

function firstQueryValue(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/** The namespace a request touches (undefined: the default one), or 'response' for listings to filter. */
export function requestedNamespace(
  source: NamespaceSource,
  request: { body?: unknown; query?: unknown; params?: unknown },
): unknown {
  switch (source) {
    case 'body':
      return parseBody(request.body).namespace;
    case 'body-name':
      return parseBody(request.body).name;
    case 'query':
      return firstQueryValue((request.query as Record<string, unknown> | undefined)?.namespace);
    case 'path':
      return (request.params as Record<string, unknown> | undefined)?.namespace;
    case 'response':
      return undefined;
  }
}

export function assertNamespaceAllowed(scope: readonly string[], namespace: unknown): void {
  if (!namespaceAllowed(scope, namespace)) {
    throw new PermissionDeniedError(`This API key is not allowed to access namespace "${canonicalNamespace(namespace)}"`);
  }
}

/**
 * Narrows a successful listing (describe_index_stats, GET /namespaces) to the key's namespaces, so a scoped key
 * never learns about the others; counts are recomputed from what remains.
 */
export function filterNamespaceListing(operation: string, scope: readonly string[], body: Buffer): Buffer {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return body;
  }
  if (operation === 'describe_index_stats' && parsed.namespaces && typeof parsed.namespaces === 'object') {
    const kept = Object.entries(parsed.namespaces as Record<string, { vectorCount?: number }>).filter(([name]) =>
      namespaceAllowed(scope, name),
    );
    parsed.namespaces = Object.fromEntries(kept);
    parsed.totalVectorCount = kept.reduce((sum, [, stats]) => sum + (stats?.vectorCount ?? 0), 0);
  } else if (operation === 'list_namespaces' && Array.isArray(parsed.namespaces)) {
    parsed.namespaces = (parsed.namespaces as { name?: string }[]).filter((entry) => namespaceAllowed(scope, entry?.name));
    parsed.total_count = (parsed.namespaces as unknown[]).length;
  }
  return Buffer.from(JSON.stringify(parsed));
}
