// A query scans the slots its namespace's graph does not cover yet (read-your-writes): after an
// ingest the graph lags by tens of thousands of vectors, after a compaction it covers nothing, and scanning
// 50k 768-d rows held the event loop 50–100 ms per query (issue 12: no stall over 50 ms, also while the graph
// is built). So for a dense, unfiltered query with a large unindexed tail, the tail's SIMD scan runs here first,
// a chunk at a time with a yield between slices (the engine's TailPrescan: values chunks, or sketch chunks for
// a long tail of a cosine namespace); the engine's synchronous
// query then only scores the candidates exactly (with their liveness at that moment), searches the graph and
// scans what was written during the yields. Answers are those of the synchronous scan (tail-prescan.ts says
// why); a namespace renumbered meanwhile (a compaction ending, a clear) makes the scan start over (a few times,
// then the engine scans on its own).
// Filtered queries scan only their matches in the tail; by id and sparse queries are left as they are.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { QueryRequest } from '@conifer/contracts';
import { planQuery, TailPrescan, type NamespaceStore, type VectorIndex } from '@conifer/engine';

export interface CooperativeScanOptions {
  /** Longest run of scanning between two yields (a 4096-row chunk takes ~2–6 ms at 768-d, more under load). */
  sliceMs: number;
  /** Tails of fewer floats (rows × dimension) are scanned by the engine as they are (~2 ms at this size). */
  minFloats: number;
}

const DEFAULT_COOPERATIVE_SCAN: CooperativeScanOptions = { sliceMs: 5, minFloats: 1 << 21 };

/** Scans started over when the namespace is renumbered during one (a compaction ending), before giving up. */
const ATTEMPTS = 3;

/** Passes that rescan chunks left stale by deletes, before the query is left to rescan the rest. */
const REFRESH_PASSES = 3;

/** The prescan to hand to `index.query(query, …)`, or undefined when the engine should scan on its own. */
export async function cooperativeTailScan(
  index: VectorIndex,
  query: QueryRequest,
  options: CooperativeScanOptions = DEFAULT_COOPERATIVE_SCAN,
): Promise<TailPrescan | undefined> {
  const { vector } = query;
  if (vector === undefined || query.filter !== undefined || query.id !== undefined || (query.sparseVector?.indices.length ?? 0) > 0) return undefined;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const ns = index.namespaces.get(query.namespace);
    // A vector of the wrong length is the engine's 400 to give.
    if (ns === undefined || ns.dimension !== vector.length || ns.liveCount === 0) return undefined;
    // A graph too small to search is answered by a scan of the whole namespace: scan all of it here then
    // (else the slots below the graph, up to tens of thousands after a compaction's rebuild starts, are
    // scanned synchronously by the query).
    const plan = planQuery(ns, { vector, hasSparse: false, filter: undefined, topK: query.topK }, index.search);
    const from = plan.kind === 'exact' ? 0 : ns.annUpTo;
    if ((ns.slotCount - from) * ns.dimension < options.minFloats) return undefined;
    const prescan = new TailPrescan(ns, vector, index.settings.metric, query.topK, from);
    if (await scanned(index, query.namespace, ns, prescan, options.sliceMs)) return prescan;
  }
  return undefined;
}

/**
 * Runs the prescan's steps with a yield every `sliceMs`, then rescans here the chunks that deletes during the
 * yields left with too few live candidates (the query would rescan them synchronously: during a compaction's
 * deletes, most of them); false when the namespace was deleted, replaced or renumbered meanwhile.
 */
async function scanned(index: VectorIndex, namespace: string, ns: NamespaceStore, prescan: TailPrescan, sliceMs: number): Promise<boolean> {
  let sliceStart = performance.now();
  // Refresh passes over the chunks: one without a yield leaves them all fresh for the query that follows at
  // once; after REFRESH_PASSES the query rescans what is left (deletes kept coming).
  let passes = 0;
  let refreshing = false;
  let yielded = false;
  for (;;) {
    if (!prescan.done) prescan.step(ns);
    else {
      if (!refreshing) {
        refreshing = true;
        yielded = false;
      }
      if (!prescan.refreshStep(ns)) {
        if (!yielded || ++passes >= REFRESH_PASSES) return true;
        prescan.recheck();
        yielded = false;
        continue;
      }
    }
    if (performance.now() - sliceStart < sliceMs) continue;
    await nextTurn();
    if (index.namespaces.get(namespace) !== ns || !prescan.fits(ns)) return false;
    yielded = true;
    sliceStart = performance.now();
  }
}
