// Describe namespace: its live record count, or NotFound.
import { displayNamespace, NotFoundError } from '@conifer/contracts';
import type { NamespaceSummary } from '../types.js';
import type { ReadContext } from './context.js';

export function describeNamespace(ctx: ReadContext, name: string): NamespaceSummary {
  const ns = ctx.namespaces.get(name);
  if (ns === undefined) throw new NotFoundError(`namespace "${displayNamespace(name)}" not found`);
  const indexedFields = ns.declaredFields();
  return {
    name,
    recordCount: ns.liveCount,
    ...(ns.schema === undefined ? {} : { schema: ns.schema }),
    ...(indexedFields === undefined ? {} : { indexedFields }),
  };
}
