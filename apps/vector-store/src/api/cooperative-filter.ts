// Heavy metadata filters are evaluated in slices that yield to the event loop, so one tenant's expensive
// (but legal) filter cannot stall every other index on this store (issue 14 item 10: a 200,000-clause
// filter held the loop for 7 s). The engine's query code is synchronous; this runs before it, for reads
// only (query, fetch_by_metadata, describe_index_stats, update dryRun):
// - the filter's cost is estimated as clauses × live records of the namespaces it reads; under
//   `heavyWork`, or for a small filter the posting lists can narrow, the engine evaluates it as before;
// - above, the predicate is run over every live record in slices of `sliceMs`, with a yield between
//   slices, and the answers are remembered per metadata object. The engine then gets a `precomputed`
//   filter whose test is a lookup, so its synchronous part costs what an unfiltered scan costs;
// - a record written while the slices ran has a metadata object not yet seen: its answer is computed on
//   demand, so the result is exactly the filter's (the predicate is a pure function of the metadata);
// - evaluation stops with a 400 after `budgetMs` of CPU, under the gateway's upstream timeout.
// Writes by filter (update/delete) are not sliced: their filter is logged and replayed as it came.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { compileFilter, InvalidArgumentError, type FilterNode, type RecordMetadata } from '@conifer/contracts';
import type { VectorIndex } from '@conifer/engine';

export interface CooperativeFilterOptions {
  /** Longest run of evaluation between two yields. */
  sliceMs: number;
  /** CPU time one filter evaluation may take in total. */
  budgetMs: number;
  /** Clauses × records under which the filter is left to the engine as it is. */
  heavyWork: number;
}

const DEFAULT_COOPERATIVE_FILTER: CooperativeFilterOptions = { sliceMs: 2, budgetMs: 10_000, heavyWork: 250_000 };

const MAX_NARROWABLE_CLAUSES = 4;

/** Whether the engine's posting lists can answer the filter with a candidate set (metadata-index.ts). */
function narrowable(node: FilterNode): boolean {
  switch (node.op) {
    case 'eq':
    case 'in':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return true;
    case 'and':
      return node.children.some(narrowable);
    case 'or':
      return node.children.every(narrowable);
    default:
      return false;
  }
}

/** Clauses of a filter (each operator on a field, each $and/$or). */
export function filterClauses(node: FilterNode): number {
  if (node.op === 'and' || node.op === 'or') {
    let n = 1;
    for (const child of node.children) n += filterClauses(child);
    return n;
  }
  return 1;
}

/**
 * The filter to hand to the engine for a read of `namespaces` (undefined: every namespace of the index):
 * the same filter when it is cheap, else a precomputed one built without holding the event loop.
 * @throws InvalidArgumentError when evaluating the filter takes more than the CPU budget.
 */
export async function cooperativeFilter(
  index: VectorIndex,
  namespaces: string[] | undefined,
  filter: FilterNode | undefined,
  options: CooperativeFilterOptions = DEFAULT_COOPERATIVE_FILTER,
): Promise<FilterNode | undefined> {
  if (filter === undefined || filter.op === 'precomputed') return filter;
  const targets =
    namespaces === undefined ? [...index.namespaces.stores()] : namespaces.flatMap((name) => index.namespaces.get(name) ?? []);
  let records = 0;
  for (const ns of targets) records += ns.liveCount;
  const clauses = filterClauses(filter);
  if (clauses * records < options.heavyWork) return filter;
  // A small filter the posting lists can narrow ($eq, $in, ranges, and/or of those) costs the engine the
  // size of its candidate set, not of the namespace: slicing it would only make it slower.
  if (clauses <= MAX_NARROWABLE_CLAUSES && narrowable(filter)) return filter;

  const predicate = compileFilter(filter);
  const answers = new WeakMap<RecordMetadata, boolean>();
  const withoutMetadata = predicate(undefined);
  let spent = 0;
  let sliceStart = performance.now();
  for (const ns of targets) {
    // Slots are re-read on every step: a write during a yield may renumber them (answers are keyed by
    // metadata object, so a missed or moved record is only computed later, never answered wrongly).
    for (let slot = 0; slot < ns.slotCount; slot++) {
      const metadata = ns.metadataOf(slot);
      if (metadata !== undefined && ns.isLive(slot) && !answers.has(metadata)) answers.set(metadata, predicate(metadata));
      if ((slot & 127) !== 127) continue;
      const now = performance.now();
      if (now - sliceStart < options.sliceMs) continue;
      spent += now - sliceStart;
      if (spent > options.budgetMs) {
        throw new InvalidArgumentError(
          `the filter takes more than ${Math.round(options.budgetMs / 1000)} s to evaluate on this namespace; use fewer or more selective clauses`,
        );
      }
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  return {
    op: 'precomputed',
    test: (metadata) => {
      if (metadata === undefined) return withoutMetadata;
      const known = answers.get(metadata);
      return known ?? predicate(metadata);
    },
  };
}
