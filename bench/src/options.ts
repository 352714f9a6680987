// The bench's command-line options (see bench.ts for the list), read once.
import type { DatasetKind } from '@conifer/test-utils';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, fallback: string | number): string => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : String(fallback);
};

export interface DatasetSpec {
  n: number;
  dim: number;
  name: string;
  restart?: boolean;
}

export const FULL = flag('full');
export const ONLY = option('only', 'overhead,framework,keys,query,text').split(',');
export const LOAD_SECONDS = Number(option('duration', FULL ? 15 : 5));
/**
 * The overhead section's saturation runs: each target's LOAD_SECONDS cut into this many slices, run in turn
 * (direct, gateway, nginx; then gateway, nginx, direct; …) so that a change in the machine's load over the
 * minute hits every target alike instead of whichever ran last. Rounded up to a multiple of the targets, so that
 * each target takes every position in the order equally often.
 */
export const SATURATION_SLICES = Math.max(1, Number(option('saturation-slices', 3)));
export const QUERIES = Number(option('queries', 200));
/** Sequential rounds of the latency comparisons (overhead, framework). */
export const ROUNDS = Number(option('rounds', FULL ? 10_000 : 3_000));
// How long to wait for the ANN rebuild after the restart (the 1M rebuild alone can take many minutes).
export const RESTART_ANN_WAIT = Number(option('restart-ann-wait', FULL ? 240 : 1800));
// Vectors sent straight to the store for the ingest reference (the rate, not the whole set, is wanted).
export const DIRECT_INGEST_MAX = Number(option('direct-ingest-max', FULL ? 200_000 : Infinity));
// The direct-to-store ingest reference before the gateway's (in the fresh store) instead of after it.
export const DIRECT_INGEST_FIRST = flag('direct-ingest-first');
const ALL_DATASETS: DatasetSpec[] = FULL
  ? [
      { n: 100_000, dim: 768, name: 'bench-768' },
      { n: 1_000_000, dim: 128, name: 'bench-128', restart: true },
      // Issue 12's headline size: 3 GB of float32, prepared on disk (bench-data.ts) and restarted.
      { n: 1_000_000, dim: 768, name: 'bench-768-1m', restart: true },
    ]
  : [
      { n: 20_000, dim: 768, name: 'bench-768' },
      { n: 100_000, dim: 128, name: 'bench-128', restart: true },
    ];
// --n768=<n> / --n128=<n> override the size of the first set of that dimension (smoke runs).
for (const dim of [768, 128]) {
  const first = ALL_DATASETS.find((d) => d.dim === dim);
  if (first) first.n = Number(option(`n${dim}`, first.n));
}
// --datasets=128 runs only the 128-d sets, --datasets=1000000x768 only that size (a size not in the list is
// added, restarted when it has 1M vectors or more), e.g. --datasets=100000x768,1000000x768.
const datasetChoice = option('datasets', '').split(',').filter(Boolean);
export const DATASETS: DatasetSpec[] =
  datasetChoice.length === 0
    ? ALL_DATASETS
    : datasetChoice.flatMap((choice): DatasetSpec[] => {
        if (!choice.includes('x')) return ALL_DATASETS.filter((d) => d.dim === Number(choice));
        const [n, dim] = choice.split('x').map(Number);
        if (!Number.isInteger(n) || !Number.isInteger(dim) || n <= 0 || dim <= 0) throw new Error(`--datasets: '${choice}' is neither <dim> nor <n>x<dim>`);
        return [ALL_DATASETS.find((d) => d.n === n && d.dim === dim) ?? { n, dim, name: `bench-${dim}-${n}`, restart: n >= 1_000_000 }];
      });
// --data=hard: the query section's sets drawn from test-utils' `hard` distribution (unit vectors, 1000 overlapping
// clusters of low intrinsic dimension) instead of the default `bench` one (100 Gaussian clusters, isotropic noise).
export const DATA_KIND = dataKind(option('data', 'bench'));
function dataKind(name: string): DatasetKind {
  if (name !== 'bench' && name !== 'hard') throw new Error(`--data: '${name}' is neither bench nor hard`);
  return name;
}
// Longest wait for the background ANN build after ingest (then queries are measured as they are, and said so).
export const ANN_WAIT = Number(option('ann-wait', Infinity));
export const TEXT_DOCS = Number(option('text-docs', FULL ? 100_000 : 20_000));
export const INGEST_CONCURRENCY = 4;
// --only=memory (not in the default set): the sizes (n x dim, comma-separated), the longest wait for the
// graph after each ingest, and the store build to measure (another checkout's dist/main.js for before/after).
const sizes = (name: string, fallback: string): { n: number; dim: number }[] =>
  option(name, fallback)
    .split(',')
    .map((s) => {
      const [n, dim] = s.split('x').map(Number);
      if (!Number.isInteger(n) || !Number.isInteger(dim) || n <= 0 || dim <= 0) throw new Error(`--${name}: '${s}' is not <n>x<dim>`);
      return { n, dim };
    });
export const MEMORY_SIZES = sizes('memory-sizes', FULL ? '100000x768,1000000x128,1000000x768' : '20000x768');
export const MEMORY_ANN_WAIT = Number(option('memory-ann-wait', 3600));
export const MEMORY_STORE_MAIN = option('memory-store-main', '');
// --only=stalls (not in the default set): the sizes, the longest wait for the graph after the ingest, and the
// store build to measure (as for memory).
export const STALLS_SIZES = sizes('stalls-sizes', FULL ? '100000x768' : '30000x768');
export const STALLS_ANN_WAIT = Number(option('stalls-ann-wait', 1800));
export const STALLS_STORE_MAIN = option('stalls-store-main', '');
// --stalls-cpu-prof=<dir>: the store runs with --cpu-prof into <dir> (its main thread's profile: read its long
// ticks with bench/src/long-ticks.ts and the phase windows the section prints).
export const STALLS_CPU_PROF = option('stalls-cpu-prof', '');
// --stalls-trace-gc: the store runs with --trace-gc; its collections are summed per phase by kind and reason
// (--stalls-trace-gc=<file>: also the raw lines, then the per-phase summaries). --stalls-node-args=<a,b>: more options
// of the store's node process.
export const STALLS_TRACE_GC = flag('stalls-trace-gc') ? '-' : option('stalls-trace-gc', '');
export const STALLS_NODE_ARGS = option('stalls-node-args', '').split(',').filter((a) => a !== '');
// --base-gateway-main=<another build's apps/gateway/dist/main.js>: a second gateway of that build on the same store,
// database and key; the overhead and query sections measure it as one more target, interleaved (before/after in one run).
export const BASE_GATEWAY_MAIN = option('base-gateway-main', '');
// --overhead-dim=<d>: the overhead section's index dimension (default 128; 768 sends an 8 KB query body).
export const OVERHEAD_DIM = Number(option('overhead-dim', 128));
