// A generated set and its graph, cached on disk for the graph tools (graph-pages.ts, rerank-depth.ts): the engine's
// UsearchAnn with its defaults, rows added in order (slot i is row i), built once per kind and size.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { DEFAULT_ANN_PARAMS, UsearchAnn } from '@conifer/engine';
import { makeDataset, type Dataset, type DatasetKind } from '@conifer/test-utils';

/** makeDataset's n × dim rows of `kind`, and the path of their graph in `dir` (`graph` instead, when given: not built). */
export function cachedGraph(kind: DatasetKind, n: number, dim: number, dir: string, log: (msg: string) => void, graph?: string): { data: Dataset; graphFile: string } {
  mkdirSync(dir, { recursive: true });
  log(`generating ${kind} ${n} x ${dim}`);
  const data = makeDataset({ n, dim, kind });
  const graphFile = graph ?? `${dir}/${kind}-${n}x${dim}.usearch`;
  if (!existsSync(graphFile)) {
    log('building the graph');
    const ann = new UsearchAnn('cosine', dim, DEFAULT_ANN_PARAMS);
    for (let from = 0; from < n; from += 20_000) {
      const to = Math.min(n, from + 20_000);
      ann.add(Int32Array.from({ length: to - from }, (_, i) => from + i), data.values.slice(from * dim, to * dim), 0);
      log(`graph ${to}/${n}`);
    }
    ann.save(`${graphFile}.tmp`);
    renameSync(`${graphFile}.tmp`, graphFile);
  }
  return { data, graphFile };
}
