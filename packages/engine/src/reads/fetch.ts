// Fetch: records by id.
import type { FetchRequest } from '@conifer/contracts';
import type { FetchResult } from '../types.js';
import { recordOf, type ReadContext } from './context.js';

export function fetch(ctx: ReadContext, request: FetchRequest): FetchResult {
  const ns = ctx.namespaces.get(request.namespace);
  const records: FetchResult['records'] = [];
  if (ns === undefined) return { records };
  const seen = new Set<string>();
  for (const id of request.ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const slot = ns.slotOf(id);
    if (slot !== undefined) records.push(recordOf(ns, slot));
  }
  return { records };
}
