// Search breadth calibrated per namespace graph (issue 12 part 3). The planner's rule (annBreadth) widens
// the graph search with a power of the graph's size, which holds recall@10 on the synthetic sets it was
// fitted on but not on every data set (GloVe 100-d: 0.950 at 100k), and over-provisions others (bench
// 100k × 768: 0.995). So each graph gets its own multiplier of that breadth: estimated on a sample of the
// graph's own live vectors as queries, each held out of the data it is asked against (its exact neighbours
// by usearch's SIMD brute force over the other vectors the graph covers; the graph's answers by a replay of
// usearch's walk that never enters the query's own node, ann/graph-file.ts, planned as the engine plans: the
// rule's candidates × the multiplier, the first annRerank of them scored exactly), the smallest multiplier
// of a ladder whose estimated recall@k reaches the target. Asked with usearch itself, a query that is a node
// of the graph walks to itself and along the links made for it: that estimate was optimistic by up to 0.04
// (0.997 vs 0.956 on sparse clusters), the held-out one tracks real queries (bench/RESULTS.md "s7-breadth").
// Multipliers below 1 (down to MIN_BREADTH_SCALE) narrow the search where the rule over-provisions.
//
// Leaving a node out of the walk does not make it a stranger to the graph: it was inserted, its neighbours spent
// link slots on it and pruned the links it covered. That estimate read 0.002–0.006 low at 100k and +0.003 to
// +0.014 high in all four 1M × 768 runs (bench/RESULTS.md "s9-walk", session 9). So when the namespace holds
// records the graph has not seen yet (the builder inserts in slot order, and the store's builder holds back the
// last few slots when a calibration will be due, ann-builder.ts), the sample comes from those: the `unseen`
// estimate. They never shaped the graph, exactly like real queries, and the graph is asked by usearch itself,
// the search that serves queries; their truth is over the graph's live slots (a query scans the tail anyway).
// The replay is the fallback for a graph with no backlog (one restored whole from a snapshot).

// The exact part is the cost: samples × graph size distance evaluations (64 × 100k × 768 ≈ 5 G multiply-adds),
// so the store runs it on the ANN worker thread, fed the graph's vectors a batch at a time (addRows).
import usearch from 'usearch';
import { UsearchGraphFile, type GraphBytes } from '../ann/graph-file.js';
import type { UsearchAnn } from '../ann/usearch-ann.js';
import type { NamespaceStore } from '../namespace/namespace-store.js';
import { MIN_BREADTH_SCALE, type BreadthCalibration, type Metric, type SearchOptions } from '../types.js';
import { annRerank, plannedCandidates } from './planner.js';

/**
 * The multipliers tried, in order; the first whose estimate reaches the target wins (else the last). The
 * re-ranked count scales with the candidates (planner annRerank). Steps of at most 25 % up to ×3: with
 * ×1 → ×1.5 → ×2 → ×3, a graph whose estimate just missed at ×2 was searched 50 % wider than it needed (1M × 128
 * chose ×2 and ×3 in session 15, for real recall 0.995–0.996); each rung tried costs the worker one more walk
 * of the sample.
 */
export const BREADTH_LADDER: readonly number[] = [MIN_BREADTH_SCALE, 0.625, 0.75, 0.875, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 6, 8];
/**
 * Sample queries per calibration of a graph of `size` nodes: 64 (640 neighbours: a standard error of ~0.005 at recall
 * 0.98), 128 from 250k nodes and 256 from 500k (~0.0027). The held-out estimate ran 0.004–0.011 below real recall at
 * 100k (its bias gave the goal's small margin room), but not at 1M × 768: 64 samples chose breadths that measured
 * 0.977 and 0.981 (bench/RESULTS.md, session 8). 256 there chose ×1 at an estimated 0.985 that measured 0.979: the
 * estimate is optimistic at that size, which more samples narrow but do not correct. The exact answers and walks cost
 * the worker ~4× more at 256 (42 s at 1M × 768, in slices), once per doubling of a graph being built and once more
 * when the build catches up (calibrationDueAt `settled`).
 */
export function calibrationSamples(size: number): number {
  return size >= 500_000 ? 256 : size >= 250_000 ? 128 : 64;
}
/** The recall@k estimated (the planner's breadth for topK = k). */
export const CALIBRATION_K = 10;
/**
 * The estimate must miss at most this fraction of what the target allows (target 0.98: the estimate must reach
 * 0.982): a margin for the sample's noise (calibrationSamples). The held-out estimate was
 * 0.001–0.011 below real queries' recall on every set measured (bench/RESULTS.md "s7-breadth"), so the margin is
 * small: 0.985 (the in-sample estimate's) chose ×1.5 at 1M × 128 where ×1 gave real queries 0.987 (CPU +26 %).
 * The unseen estimate has no such bias to lean on (within ±0.003 of 1000 real queries at 100k × 768, but
 * 0.002–0.004 high at 300k × 128, bench/RESULTS.md "s10-calib"): the margin is then thinner than one standard error
 * of its sample, and 2 of 15 calibrations there chose a multiplier measuring 0.971: so an unseen estimate must also
 * reach the target one standard error down (rungReaches).
 */
const CALIBRATION_MISS_RATIO = 0.9;
/**
 * The in-sample estimate (no replayable graph file): optimistic, so it keeps session 6's rules: the estimate must
 * reach 0.985 for target 0.98, and the multiplier never goes below 1 (it cannot tell that the rule over-provisions).
 */
const IN_SAMPLE_MISS_RATIO = 0.75;

/** The estimate a target asks for. */
function calibrationGoal(target: number, missRatio = CALIBRATION_MISS_RATIO): number {
  return 1 - (1 - Math.min(1, target)) * missRatio;
}

/** A graph is calibrated again once it has grown this many times since its last calibration. */
const RECALIBRATE_GROWTH = 2;
/**
 * A graph that covers the whole namespace (its builder has caught up) is calibrated again once it has grown this
 * many times: it serves at that size for now, and a multiplier found at a smaller size under-provisions it. The
 * breadth a recall needs grows faster with the graph than the rule's power law on the bench's 768-d data, so
 * recall at a fixed multiplier falls as the graph grows: a graph built to 1M after its ingest was last calibrated
 * at its previous doubling (between 500k and 1M) and served at 1M with that multiplier (bench/RESULTS.md
 * "s11-calsize"). At most 1.25× between the calibrated and the served size bounds that loss to a third of a
 * doubling's.
 */
const SETTLED_RECALIBRATE_GROWTH = 1.25;

const METRIC = { cosine: 'cos', dotproduct: 'ip', euclidean: 'l2sq' } as const;

/** What one calibration found: the chosen multiplier and the estimate of every multiplier tried. */
export interface CalibrationResult extends BreadthCalibration {
  /**
   * Each multiplier's estimate, and its standard error over the sample queries (a query's k neighbours are found
   * or missed together, so the error is the queries' spread, not a binomial over neighbours).
   */
  tried: { scale: number; recall: number; stderr: number; candidates: number; rerank: number }[];
  /**
   * `unseen`: queries from records the graph does not hold (slots from its `upTo`), asked of usearch itself;
   * `held-out`: queries from the graph's own records, each one's node left out of the walk (the replay of the
   * graph file); `in-sample`: the graph's own records asked of usearch, the query's own slot dropped from its
   * answers (optimistic), when the file cannot be replayed.
   */
  method: 'unseen' | 'held-out' | 'in-sample';
}

/** Sample queries: copies of the values of some live slots, and those slots. */
export interface CalibrationSample {
  queries: Float32Array;
  slots: Int32Array;
  /** The slots are not in the graph (taken from its backlog): the `unseen` estimate. */
  unseen?: boolean;
}

/** Whether a namespace's graph wants a (new) calibration: none yet, or the graph has grown since. */
export function calibrationDue(ns: NamespaceStore): boolean {
  const ann = ns.ann;
  return ann !== undefined && calibrationDueAt(ns, ann.size);
}

/**
 * Whether a graph of `size` slots would want a calibration (calibrationDue), given the size of the graph the
 * namespace's calibration measured (none: due). `settled`: the graph would cover the whole namespace (its builder
 * caught up), which is due at a smaller growth (SETTLED_RECALIBRATE_GROWTH).
 */
export function calibrationDueAt(ns: NamespaceStore, size: number, settled = false): boolean {
  const calibrated = ns.annCalibration?.size;
  return size > 0 && (calibrated === undefined || size >= calibrated * (settled ? SETTLED_RECALIBRATE_GROWTH : RECALIBRATE_GROWTH));
}

/**
 * The slots at the end of the namespace a builder keeps out of its graph now: calibrationSamples of them while a
 * graph of every live record would be due for a settled calibration (calibrationDueAt `settled`: grown 1.25× since the
 * calibration installed), so that it has records the graph never saw as queries (the `unseen` estimate) when the
 * build catches up (the end of an ingest, a rebuild; without them the calibration falls back to the replay). Held
 * until that calibration is installed, not only started: a store stopped while it runs (70 s at 1M × 128) restarts
 * with them still out of its saved graph and calibrates on them again. Released at its start, a restart during it
 * left a saved graph of every record, no backlog for unseen queries, and the multiplier of a graph up to 2× smaller:
 * ×0.75 calibrated at 594k measured recall@10 0.972 at 1M × 128 (bench/RESULTS.md, session 13).
 */
export function calibrationHeldBackSlots(ns: NamespaceStore): number {
  const hold = calibrationSamples(ns.slotCount);
  // Live records, not slots: a calibration's size counts its graph's nodes, and slots deleted before the builder
  // reached them never become nodes. Against the slots, a namespace a fifth of whose slots were such was due again
  // after every settled calibration, its last records held back for good (the stalls bench, session 14).
  return ns.slotCount > hold * 2 && calibrationDueAt(ns, ns.liveCount, true) ? hold : 0;
}

/**
 * The calibration sample of a namespace's graph: unseen (unseenSample) when the backlog has enough live records,
 * else the graph's own records (sampleQueries, for the replay).
 */
export function calibrationSample(ns: NamespaceStore): CalibrationSample {
  return unseenSample(ns) ?? sampleQueries(ns, ns.annUpTo);
}

/**
 * Sample queries from the records the graph has not seen (live slots from `annUpTo` on), or undefined when the
 * backlog has fewer than half of calibrationSamples live ones (their standard error would be 1.4× or more).
 */
export function unseenSample(ns: NamespaceStore, count = calibrationSamples(ns.annUpTo)): CalibrationSample | undefined {
  if (!hasUnseenSample(ns, count)) return undefined;
  const sample = sampleQueries(ns, ns.slotCount, count, ns.slotCount, ns.annUpTo);
  return sample.slots.length >= count / 2 ? { ...sample, unseen: true } : undefined;
}

/**
 * Whether the namespace's backlog (slots from its graph's `annUpTo` on) holds the live records an unseen sample needs:
 * half of `count` (unseenSample), counted without copying them.
 */
export function hasUnseenSample(ns: NamespaceStore, count = calibrationSamples(ns.annUpTo)): boolean {
  if (ns.ann === undefined || ns.slotCount - ns.annUpTo < count / 2) return false;
  let live = 0;
  for (let slot = ns.annUpTo; slot < ns.slotCount && live < count / 2; slot++) if (ns.isLive(slot)) live++;
  return live >= count / 2;
}

/**
 * Up to `count` distinct live slots in [from, upTo), chosen pseudo-randomly (seeded: repeatable), with copies of
 * their values; every live one when the range holds at most 2 × `count` slots.
 */
export function sampleQueries(ns: NamespaceStore, upTo: number, count = calibrationSamples(upTo), seed = upTo, from = 0): CalibrationSample {
  const live: number[] = [];
  if (upTo - from <= count * 2) {
    for (let slot = from; slot < upTo && live.length < count; slot++) if (ns.isLive(slot)) live.push(slot);
    return copies(ns, live);
  }
  let state = (seed ^ 0x9e3779b9) >>> 0 || 1;
  const next = (): number => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
  const chosen = new Set<number>();
  // Rejection sampling over the slot range; dense namespaces find live slots at once.
  for (let attempt = 0; attempt < count * 20 && chosen.size < count && upTo > from; attempt++) {
    const slot = from + Math.floor(next() * (upTo - from));
    if (ns.isLive(slot) && !chosen.has(slot)) {
      chosen.add(slot);
      live.push(slot);
    }
  }
  return copies(ns, live);
}

function copies(ns: NamespaceStore, live: number[]): CalibrationSample {
  const dim = ns.dimension;
  const queries = new Float32Array(live.length * dim);
  live.forEach((slot, i) => queries.set(ns.valuesOf(slot), i * dim));
  return { queries, slots: Int32Array.from(live) };
}

/**
 * The exact neighbours of the sample queries over rows fed in batches (`addRows`), then the estimate of the
 * graph's recall at each multiplier (`evaluate`). Usable on any thread: it holds no namespace.
 */
export class BreadthCalibrator {
  private readonly n: number;
  private readonly keep: number;
  /** Per query, the best `keep` (distance, slot) so far, best first. */
  private readonly bestDist: Float64Array;
  private readonly bestSlot: Int32Array;
  private readonly filled: Int32Array;
  /** Slots fed (the live slots the graph covers). */
  private readonly fed = new Set<number>();
  /** The sample's slots when they are unseen (none may be fed). */
  private readonly unseenSlots: Set<number> | undefined;

  constructor(
    readonly metric: Metric,
    readonly dimension: number,
    readonly sample: CalibrationSample,
    readonly k = CALIBRATION_K,
  ) {
    this.n = sample.slots.length;
    this.keep = k + 1;
    this.bestDist = new Float64Array(this.n * this.keep).fill(Number.POSITIVE_INFINITY);
    this.bestSlot = new Int32Array(this.n * this.keep).fill(-1);
    this.filled = new Int32Array(this.n);
    this.unseenSlots = sample.unseen === true ? new Set(sample.slots) : undefined;
  }

  /** Rows fed so far. */
  get rows(): number {
    return this.fed.size;
  }

  /**
   * Feeds `slots.length` rows (row-major `vectors`, which must start at offset 0 of its buffer: usearch reads
   * from the buffer's start) into the exact answers (usearch's SIMD brute force, one call for all queries).
   */
  addRows(slots: Int32Array, vectors: Float32Array, threads = 1): void {
    const rows = slots.length;
    if (rows === 0 || this.n === 0) return;
    if (vectors.byteOffset !== 0) throw new Error('addRows needs an array at offset 0');
    for (const slot of slots) {
      // An unseen query among the graph's rows would find itself at distance 0 (and the graph would hold its node).
      if (this.unseenSlots?.has(slot) === true) throw new Error(`unseen calibration query ${slot} is among the graph's rows`);
      this.fed.add(slot);
    }
    const dim = this.dimension;
    const count = Math.min(this.keep, rows);
    const result = usearch.exactSearch(vectors.subarray(0, rows * dim), this.sample.queries, dim, count, METRIC[this.metric] as never, threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array | number[];
    };
    const { keys, distances } = result;
    for (let q = 0; q < this.n; q++) {
      const found = result.counts === undefined ? keys.length : Number(result.counts[q]);
      for (let j = 0; j < found; j++) {
        const i = this.n === 1 ? j : q * count + j;
        this.insert(q, distances[i]!, slots[Number(keys[i])]!);
      }
    }
  }

  private insert(q: number, dist: number, slot: number): void {
    const base = q * this.keep;
    let n = this.filled[q]!;
    if (n === this.keep && dist >= this.bestDist[base + n - 1]!) return;
    if (n < this.keep) n = ++this.filled[q]!;
    let i = n - 1;
    while (i > 0 && this.bestDist[base + i - 1]! > dist) {
      this.bestDist[base + i] = this.bestDist[base + i - 1]!;
      this.bestSlot[base + i] = this.bestSlot[base + i - 1]!;
      i--;
    }
    this.bestDist[base + i] = dist;
    this.bestSlot[base + i] = slot;
  }

  /** The exact k nearest slots of query q, its own slot left out. */
  exact(q: number): number[] {
    const self = this.sample.slots[q]!;
    const out: number[] = [];
    const base = q * this.keep;
    for (let j = 0; j < this.filled[q]! && out.length < this.k; j++) {
      const slot = this.bestSlot[base + j]!;
      if (slot !== self) out.push(slot);
    }
    return out;
  }

  /**
   * The graph's recall@k at each multiplier of the ladder, up to the first whose estimate reaches
   * `calibrationGoal(target)` (that one is chosen; the last if none does). Planned as the engine plans an
   * unfiltered query of topK k on a graph of `ann.size` slots of which the fed ones are live. An unseen sample
   * asks usearch (`graphBytes` unused); else the held-out walk reads the graph's saved file (`graphBytes`, the
   * caller's disk; the engine has none); without it, or when the file cannot be replayed, the estimate is
   * in-sample (usearch asked, optimistic): then only multipliers from 1 are tried, against the in-sample goal
   * (IN_SAMPLE_MISS_RATIO).
   */
  evaluate(ann: UsearchAnn, options: SearchOptions, target: number, graphBytes?: GraphBytes, ladder: readonly number[] = BREADTH_LADDER): CalibrationResult {
    const evaluation = this.evaluation(ann, options, target, graphBytes, ladder);
    let result: CalibrationResult | undefined;
    while ((result = evaluation.step(Number.POSITIVE_INFINITY)) === undefined);
    return result;
  }

  /**
   * `evaluate` in steps (the store's ANN worker answers other requests between them: the whole of it took
   * 10–12 s at 1M × 128): each `step(queries)` walks the graph for up to that many sample queries at the
   * current multiplier, and returns the result once a multiplier reaches the goal or the ladder ends. The same
   * result as `evaluate` whatever the step sizes (the hits of a multiplier are summed over its steps). The
   * graph and its bytes must stay open until then.
   */
  evaluation(ann: UsearchAnn, options: SearchOptions, target: number, graphBytes?: GraphBytes, ladder: readonly number[] = BREADTH_LADDER): BreadthEvaluation {
    const live = this.fed;
    const annLive = Math.max(1, Math.min(ann.size, live.size));
    const unseen = this.sample.unseen === true;
    // Unseen queries ask usearch itself (what serves queries); the graph's own records need the replay.
    const graph = unseen ? undefined : openGraph(ann, graphBytes);
    const method: CalibrationResult['method'] = unseen ? 'unseen' : graph === undefined ? 'in-sample' : 'held-out';
    const wanted = method === 'in-sample' ? calibrationGoal(target, IN_SAMPLE_MISS_RATIO) : calibrationGoal(target);
    const scales = method === 'in-sample' ? ladder.filter((scale) => scale >= 1) : ladder;
    const exact = Array.from({ length: this.n }, (_, q) => new Set(this.exact(q)));
    const expected = exact.reduce((n, s) => n + s.size, 0);
    const tried: CalibrationResult['tried'] = [];
    const dim = this.dimension;
    const nodes = graph?.nodesOf(Array.from(this.sample.slots));
    const expansion = ann.params.expansionSearch;
    let rung = 0;
    let q = 0;
    let hits = 0;
    /** Per sample query, its hits at the current multiplier (for the estimate's standard error). */
    const queryHits = new Int32Array(this.n);
    const finish = (): CalibrationResult => {
      const chosen = tried[tried.length - 1]!;
      return { scale: chosen.scale, recall: chosen.recall, size: ann.size, tried, method };
    };
    return {
      step: (queries: number): CalibrationResult | undefined => {
        const scale = scales[rung]!;
        const candidates = plannedCandidates(options, this.k, ann.size, annLive, dim, scale);
        const rerank = annRerank(options, this.k, candidates, scale);
        // The planner scans exactly when the list would cover half the graph: recall 1.
        const walks = candidates * 2 < ann.size && expected > 0;
        for (let done = 0; walks && q < this.n && done < queries; q++, done++) {
          const self = this.sample.slots[q]!;
          const truth = exact[q]!;
          const query = this.sample.queries.subarray(q * dim, (q + 1) * dim);
          const found =
            graph === undefined
              ? ann.search(query, candidates)
              : graph.search(ann.graphQuery(query), Math.min(candidates, ann.size), expansion, nodes!.get(self) ?? -1);
          let accepted = 0;
          let found10 = 0;
          for (const slot of found) {
            if (slot === self || !live.has(slot)) continue;
            if (accepted++ >= rerank) break;
            if (truth.has(slot)) found10++;
          }
          hits += found10;
          queryHits[q] = found10;
        }
        if (walks && q < this.n) return undefined;
        const recall = walks ? hits / expected : 1;
        tried.push({ scale, recall, stderr: walks ? ratioStderr(queryHits, exact, recall) : 0, candidates, rerank });
        rung++;
        q = 0;
        hits = 0;
        return rungReaches(method, recall, tried[tried.length - 1]!.stderr, target, wanted, unseenErrors(this.n)) || rung >= scales.length ? finish() : undefined;
      },
    };
  }
}

/**
 * Whether a multiplier's estimate `recall` (± `stderr`) is enough for `target`: it reaches `wanted` (the goal with
 * its margin), and an unseen estimate also reaches the target `errors` standard errors down (unseenErrors). The
 * unseen estimate has no downward bias to act as a margin (the replay's did), and the goal's 0.002 is less than its
 * sample's standard error (0.003–0.005 at 256–64 queries): 2 of 15 calibrations at 300k × 128 chose a multiplier
 * whose real recall was 0.971 (bench/RESULTS.md "s10-calib"). One standard error keeps a multiplier at the target's
 * edge from passing on a lucky sample about five times in six.
 */
export function rungReaches(method: CalibrationResult['method'], recall: number, stderr: number, target: number, wanted: number, errors = 1): boolean {
  return recall >= wanted && (method !== 'unseen' || recall - errors * stderr >= Math.min(1, target));
}

/**
 * The standard errors an unseen estimate from `samples` queries must clear the target by: 1, and 2 from 256 queries
 * (graphs from 500k, calibrationSamples). At that size the estimate read high against 1000 real queries in every run
 * measured, by more than its noise: 1M × 768 ×1 estimated 0.9824, measured 0.976 (session 10); 1M × 128 ×1 estimated
 * 0.9852 (± 0.0027), measured 0.978 (session 13), where the multiplier above it measured 0.989–0.994. More samples
 * narrow the estimate but do not correct it; a second standard error (~0.0027 at 256) is an allowance of the size
 * measured. At 100k × 768 the estimate was within ±0.003 of real recall, so smaller graphs keep one.
 */
export function unseenErrors(samples: number): number {
  return samples >= LARGE_SAMPLE ? 2 : 1;
}
const LARGE_SAMPLE = 256;

/**
 * The standard error of the pooled estimate Σ hits / Σ expected over the queries (the ratio estimator's:
 * √(Σ (hitsᵢ − R·expectedᵢ)² / (n (n − 1))) / mean expected).
 */
function ratioStderr(hits: Int32Array, exact: readonly Set<number>[], recall: number): number {
  const n = exact.length;
  if (n < 2) return 0;
  let squares = 0;
  let expected = 0;
  for (let q = 0; q < n; q++) {
    const size = exact[q]!.size;
    squares += (hits[q]! - recall * size) ** 2;
    expected += size;
  }
  return expected === 0 ? 0 : Math.sqrt(squares / (n * (n - 1))) / (expected / n);
}

/** A calibration's evaluation in steps (BreadthCalibrator.evaluation). */
export interface BreadthEvaluation {
  /** Walks up to `queries` sample queries; the result once the evaluation is over, else undefined. */
  step(queries: number): CalibrationResult | undefined;
}

/** The graph's file read for the held-out walk; undefined without one or when it cannot be replayed. */
function openGraph(ann: UsearchAnn, bytes: GraphBytes | undefined): UsearchGraphFile | undefined {
  if (bytes === undefined) return undefined;
  try {
    const graph = new UsearchGraphFile(bytes);
    return graph.size === ann.size ? graph : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calibrates a namespace's graph on this thread (blocks it: tests, benchmarks, and in-process indexes
 * without the store's worker) and installs the result: on unseen queries when the namespace has a backlog
 * (calibrationSample), else on the graph's own records. Returns undefined when the namespace has no graph.
 */
export function calibrateBreadth(
  ns: NamespaceStore,
  metric: Metric,
  options: SearchOptions,
  target: number,
  graphBytes?: GraphBytes,
  batch = 4096,
): CalibrationResult | undefined {
  const ann = ns.ann;
  if (ann === undefined || target <= 0) return undefined;
  const upTo = ns.annUpTo;
  const calibrator = new BreadthCalibrator(metric, ns.dimension, calibrationSample(ns));
  for (let from = 0; from < upTo; from += batch) {
    const { slots, vectors } = ns.gather(from, Math.min(upTo, from + batch));
    calibrator.addRows(slots, vectors);
  }
  const result = calibrator.evaluate(ann, options, target, graphBytes);
  ns.setAnnCalibration(result);
  return result;
}
