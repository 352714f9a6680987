#!/usr/bin/env -S node --experimental-strip-types
// Conifer through-the-system benchmarks (issue #7). Not part of `npm test`.
//   npm run build && npm run bench            quick sizes (a few minutes on 2 cores)
//   npm run bench -- --full                   the sizes: 100k x 768, 1M x 128 and 1M x 768
//   --datasets=768 (the 768-d sets) or --datasets=<n>x<dim>,... (those sizes only, e.g. 1000000x768)
//   --data=hard (the query section on test-utils' hard distribution instead of the default bench one)
//   options: --only=overhead,framework,keys,query,text  --duration=<s per load case>  --queries=<n>  --rounds=<n>  --text-docs=<n>
//   --overhead-dim=<d> (overhead section index dimension, 128)  --base-gateway-main=<path> (a second gateway build, overhead and query)
//   --only=memory (not in the default set): --memory-sizes=<n>x<dim>,...  --memory-ann-wait=<s>  --memory-store-main=<path>
//   --only=stalls (not in the default set): --stalls-sizes=<n>x<dim>,...  --stalls-ann-wait=<s>  --stalls-store-main=<path>
// Starts the real system (vector store + gateway processes on free ports, own database) like the e2e suite,
// runs the chosen sections (one file each under sections/), prints a table (metric, Conifer, reference,
// ratio, target, pass) and writes bench/results/<time>.json. The memory section starts store processes of
// its own; the system is started only when another section needs it.
import { startBench, stopBench } from './harness.ts';
import { DATASETS, FULL, ONLY } from './options.ts';
import { log, report, results } from './report.ts';
import { frameworkSection } from './sections/framework.ts';
import { keysSection } from './sections/keys.ts';
import { memorySection } from './sections/memory.ts';
import { overheadSection } from './sections/overhead.ts';
import { stallsSection } from './sections/stalls.ts';
import { textSection } from './sections/text.ts';
import { datasetSection } from './sections/vectors.ts';

const { machine } = results;
log(`Conifer bench (${FULL ? 'full' : 'quick'}): ${machine.nproc} cores, ${machine.memoryGiB} GiB, node ${process.version}, load average ${machine.loadAverageAtStart.join(' ')}`);
if (machine.loadAverageAtStart[0]! > machine.nproc / 2) {
  log('  warning: the machine is already busy (load average above half the cores): figures will be noisy and low');
}
if (ONLY.some((section) => section !== 'memory' && section !== 'stalls')) {
  log('starting the system (vector store + gateway, log level warn) ...');
  await startBench();
  try {
    if (ONLY.includes('overhead')) await overheadSection();
    if (ONLY.includes('framework')) await frameworkSection();
    if (ONLY.includes('keys')) await keysSection();
    if (ONLY.includes('query')) for (const dataset of DATASETS) await datasetSection(dataset);
    if (ONLY.includes('text')) await textSection();
  } finally {
    await stopBench();
  }
}
if (ONLY.includes('memory')) await memorySection();
if (ONLY.includes('stalls')) await stallsSection();
report();
