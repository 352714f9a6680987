// Namespace scope on the data plane, for keys limited to some namespaces (the only case in which a body is
// parsed by the gateway). The scope test itself is the auth module's namespaceInScope ("", a missing namespace
// and "__default__" are the same namespace).
import { InvalidArgumentError } from '@conifer/contracts';
import type { NamespaceSource } from './operations.js';

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
): string | undefined {
  switch (source) {
    case 'body':
      return asNamespace(parseBody(request.body).namespace);
    case 'body-name':
      return asNamespace(parseBody(request.body).name);
    case 'query':
      return asNamespace(firstQueryValue((request.query as Record<string, unknown> | undefined)?.namespace));
    case 'path':
      return asNamespace((request.params as Record<string, unknown> | undefined)?.namespace);
    case 'response':
      return undefined;
  }
}

function asNamespace(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
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
