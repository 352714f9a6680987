// Records an update by filter would change (its dry run).
import type { FilterNode } from '@conifer/contracts';
import { compile, countMatching as count } from '../filter/matching.js';
import type { ReadContext } from './context.js';

export function countMatching(ctx: ReadContext, namespace: string, filter: FilterNode | undefined): number {
  const ns = ctx.namespaces.get(namespace);
  return ns === undefined ? 0 : count(ns, compile(filter));
}
