// Scope checks for routes that know the index or namespace a request touches (the data-plane proxy, the
// control plane). An empty scope means "all". Refusals are 403 PERMISSION_DENIED.
import { DEFAULT_NAMESPACE, PermissionDeniedError } from '@conifer/contracts';
import type { ApiKeyPrincipal } from './principal.js';

/** "" , missing and "__default__" are the same namespace. */
function canonicalNamespace(namespace: string | null | undefined): string {
  return namespace === undefined || namespace === null || namespace === '' ? DEFAULT_NAMESPACE : namespace;
}

function indexInScope(principal: ApiKeyPrincipal, indexName: string): boolean {
  return principal.indexScope.length === 0 || principal.indexScope.includes(indexName);
}

export function namespaceInScope(principal: ApiKeyPrincipal, namespace: string | null | undefined): boolean {
  if (principal.namespaceScope.length === 0) return true;
  const wanted = canonicalNamespace(namespace);
  return principal.namespaceScope.some((allowed) => canonicalNamespace(allowed) === wanted);
}

export function assertIndexInScope(principal: ApiKeyPrincipal, indexName: string): void {
  if (!indexInScope(principal, indexName)) {
    throw new PermissionDeniedError(`This API key is not allowed to access index "${indexName}"`);
  }
}

export function assertNamespaceInScope(principal: ApiKeyPrincipal, namespace: string | null | undefined): void {
  if (!namespaceInScope(principal, namespace)) {
    throw new PermissionDeniedError(`This API key is not allowed to access namespace "${canonicalNamespace(namespace)}"`);
  }
}
