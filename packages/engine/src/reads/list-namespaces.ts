// List namespaces: every namespace with its live record count (ordering and paging are the caller's,
// since they follow the names as clients see them).
import type { NamespaceSummary } from '../types.js';
import type { ReadContext } from './context.js';

export function listNamespaces(ctx: ReadContext): NamespaceSummary[] {
  return [...ctx.namespaces.entries()].map(([name, ns]) => ({ name, recordCount: ns.liveCount }));
}
