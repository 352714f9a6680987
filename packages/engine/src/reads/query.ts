// Query: the k records nearest a vector (or a stored record's vector), optionally filtered.
import type { QueryRequest } from '@conifer/contracts';
import { compile } from '../filter/matching.js';
import { reportedScore } from '../scoring.js';
import { executePlan } from '../search/execute.js';
import { planQuery } from '../search/planner.js';
import type { TailPrescan } from '../search/tail-prescan.js';
import type { EngineMatch, QueryResult } from '../types.js';
import { checkDense, checkSparse } from '../validation.js';
import { recordOf, type ReadContext } from './context.js';

/**
 * `prescan`: the unindexed tail's SIMD scan of this request's dense vector, done beforehand
 * (search/tail-prescan.ts); ignored when the namespace was renumbered since.
 */
export function query(ctx: ReadContext, request: QueryRequest, prescan?: TailPrescan): QueryResult {
  const { settings } = ctx;
  const ns = ctx.namespaces.get(request.namespace);
  let vector = request.vector;
  let sparse = request.sparseVector;
  if (request.id === undefined) {
    checkDense(settings, vector, 'vector', settings.vectorType === 'dense');
    checkSparse(settings, sparse, 'sparseVector', settings.vectorType === 'sparse');
  }
  const empty: QueryResult = { matches: [], namespaceSize: 0, plan: { plan: 'empty', candidates: 0 } };
  if (ns === undefined || ns.liveCount === 0) return empty;
  if (request.id !== undefined) {
    const slot = ns.slotOf(request.id);
    if (slot === undefined) return empty;
    vector = ns.dimension > 0 ? ns.valuesOf(slot).slice() : undefined;
    sparse = ns.sparseOf(slot);
  }
  const hasSparse = sparse !== undefined && sparse.indices.length > 0;
  const plan = planQuery(ns, { vector, hasSparse, filter: compile(request.filter), topK: request.topK }, ctx.search);
  const score = ns.scorer(settings.metric, vector, sparse);
  const { top, executed } = executePlan(ns, plan, score, vector, request.topK, settings.metric, prescan);
  const parts = { values: request.includeValues, metadata: request.includeMetadata };
  const matches = top.sorted().map(({ score: s, slot }): EngineMatch => ({ ...recordOf(ns, slot, parts), score: reportedScore(settings.metric, s) }));
  return { matches, namespaceSize: ns.liveCount, plan: executed };
}
