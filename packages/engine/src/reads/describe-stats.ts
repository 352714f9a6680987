// Describe index stats: live (or matching) records per namespace.
import type { FilterNode } from '@conifer/contracts';
import { compile, countMatching } from '../filter/matching.js';
import type { StatsResult } from '../types.js';
import type { ReadContext } from './context.js';

export function describeStats(ctx: ReadContext, filter: FilterNode | undefined): StatsResult {
  const compiled = compile(filter);
  const result: StatsResult = { namespaces: [], total: 0 };
  for (const [name, ns] of ctx.namespaces.entries()) {
    const count = countMatching(ns, compiled);
    if (compiled !== undefined && count === 0) continue;
    result.namespaces.push({ name, recordCount: count });
    result.total += count;
  }
  return result;
}
