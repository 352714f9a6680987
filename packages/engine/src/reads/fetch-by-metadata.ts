// Fetch by metadata: records matching a filter, in id order, a page at a time.
import { compileFilter } from '@conifer/contracts';
import type { EngineRecord, FetchByMetadataInput, Page } from '../types.js';
import { upperBound } from '../sorted-bounds.js';
import { recordOf, type ReadContext } from './context.js';

export function fetchByMetadata(ctx: ReadContext, input: FetchByMetadataInput): Page<EngineRecord> {
  const ns = ctx.namespaces.get(input.namespace);
  const page: Page<EngineRecord> = { items: [] };
  if (ns === undefined) return page;
  const predicate = input.filter === undefined ? () => true : compileFilter(input.filter);
  const ids = ns.sortedIds();
  let i = input.after === undefined ? 0 : upperBound(ids, input.after);
  for (; i < ids.length && page.items.length < input.limit; i++) {
    const slot = ns.slotOf(ids[i]!)!;
    if (predicate(ns.metadataOf(slot))) page.items.push(recordOf(ns, slot));
  }
  // Another page only if a further match exists.
  if (page.items.length === input.limit) {
    for (; i < ids.length; i++) {
      if (predicate(ns.metadataOf(ns.slotOf(ids[i]!)!))) {
        page.after = page.items[page.items.length - 1]!.id;
        break;
      }
    }
  }
  return page;
}
