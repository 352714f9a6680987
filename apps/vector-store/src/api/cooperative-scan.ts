// A query scans exactly the slots its namespace's graph does not cover yet (read-your-writes): after an
// ingest the graph lags by tens of thousands of vectors, after a compaction it covers nothing, and scanning
// 50k 768-d rows held the event loop 50–100 ms per query (issue 12: no stall over 50 ms, also while the graph
// is built). So for a dense, unfiltered query with a large unindexed tail, the tail's SIMD scan runs here first,
// a values chunk at a time with a yield between slices (the engine's TailPrescan); the engine's synchronous
// query then only scores the candidates exactly (with their liveness at that moment), searches the graph and
// scans what was written during the yields. Answers are those of the synchronous scan (tail-prescan.ts says
// why); a namespace renumbered meanwhile (a compaction ending, a clear) makes the scan start over (a few times,
// then the engine scans on its own).
// Filtered queries scan only their matches in the tail; by id and sparse queries are left as they are.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { QueryRequest } from '@conifer/contracts';
import { TailPrescan, type NamespaceStore, type VectorIndex } from '@conifer/engine';

export interface CooperativeScanOptions {
  /** Longest run of scanning between two yields (a 4096-row chunk takes ~2–6 ms at 768-d, more under load). */
  sliceMs: number;
  /** Tails of fewer floats (rows × dimension) are scanned by the engine as they are (~2 ms at this size). */
  minFloats: number;
}

const DEFAULT_COOPERATIVE_SCAN: CooperativeScanOptions = { sliceMs: 5, minFloats: 1 << 21 };

/** Scans started over when the namespace is renumbered during one (a compaction ending), before giving up. */
const ATTEMPTS = 3;

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
    if ((ns.slotCount - ns.annUpTo) * ns.dimension < options.minFloats) return undefined;
    const prescan = new TailPrescan(ns, vector, index.settings.metric, query.topK);
    if (await scanned(index, query.namespace, ns, prescan, options.sliceMs)) return prescan;
  }
  return undefined;
}

/** Runs the prescan's steps with a yield every `sliceMs`; false when the namespace was deleted, replaced or renumbered meanwhile. */
async function scanned(index: VectorIndex, namespace: string, ns: NamespaceStore, prescan: TailPrescan, sliceMs: number): Promise<boolean> {
  let sliceStart = performance.now();
  for (;;) {
    prescan.step(ns);
    if (prescan.done) return true;
    if (performance.now() - sliceStart < sliceMs) continue;
    await nextTurn();
    if (index.namespaces.get(namespace) !== ns || !prescan.fits(ns)) return false;
    sliceStart = performance.now();
  }
}
