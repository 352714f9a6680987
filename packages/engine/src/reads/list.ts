// List: ids with a prefix, in id order, a page at a time.
import type { ListInput, Page } from '../types.js';
import { lowerBound, upperBound } from '../sorted-bounds.js';
import type { ReadContext } from './context.js';

export function list(ctx: ReadContext, input: ListInput): Page<string> {
  const ns = ctx.namespaces.get(input.namespace);
  const page: Page<string> = { items: [] };
  if (ns === undefined) return page;
  const ids = ns.sortedIds();
  let i = lowerBound(ids, input.prefix);
  if (input.after !== undefined) i = Math.max(i, upperBound(ids, input.after));
  for (; i < ids.length && page.items.length < input.limit; i++) {
    if (!ids[i]!.startsWith(input.prefix)) break;
    page.items.push(ids[i]!);
  }
  if (page.items.length === input.limit && i < ids.length && ids[i]!.startsWith(input.prefix)) page.after = page.items[page.items.length - 1]!;
  return page;
}
