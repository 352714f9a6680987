// [6] Full-text search (BM25) through the gateway: the 2026-07 documents API on a synthetic corpus, against
// a brute-force BM25 (../text.ts); then a kill -9 of the store and the time until it answers again.
import { bench, deleteIndex, storeIndexIds } from '../harness.ts';
import { INGEST_CONCURRENCY, QUERIES, TEXT_DOCS } from '../options.ts';
import { log, results, row } from '../report.ts';
import { bruteForceTopK, makeCorpus, type Scored, textRecall } from '../text.ts';
import { json, percentile, pool, progress, request } from '../util.ts';

export async function textSection() {
  const n = TEXT_DOCS;
  const section: Record<string, unknown> = { n, queries: QUERIES, vocabulary: 20_000, wordsPerDocument: '10–120', zipf: 1.07 };
  results.sections.text = section;
  log(`\n[6] full-text search (BM25): ${n.toLocaleString('en-US')} documents, documents API through the gateway`);
  // A text-only index: created through the control plane, its schema handed to the store as the 2026-07
  // control plane does (until that lands, the bench sets it through the store's internal API).
  const before = await storeIndexIds();
  const created = await json(`${bench.system.gatewayUrl}/indexes`, {
    method: 'POST',
    headers: bench.keyHeaders,
    body: JSON.stringify({ name: 'bench-text', vector_type: 'sparse', metric: 'dotproduct', spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }),
  });
  const indexId = [...(await storeIndexIds())].find((id) => !before.has(id));
  const schema = { fields: { body: { type: 'string', full_text_search: { language: 'en' } } } };
  await json(`${bench.storeUrl}/internal/indexes/${indexId}`, {
    method: 'PUT',
    headers: bench.internalHeaders,
    body: JSON.stringify({ dimension: null, metric: 'dotproduct', vectorType: 'sparse', schema }),
  });
  bench.cleanups.push(() => deleteIndex('bench-text'));
  const base = `${created.host}/namespaces/__default__/documents`;
  const headers = { ...bench.keyHeaders, 'x-pinecone-api-version': '2026-07' };

  let bar = progress('generating the corpus');
  const corpus = makeCorpus({ n });
  const bodies: string[] = [];
  for (let j = 0; j < n; j += 500) {
    const documents = corpus.docs.slice(j, j + 500).map((d) => ({ _id: d.id, body: d.tokens.join(' '), bucket: d.bucket }));
    bodies.push(JSON.stringify({ documents }));
  }
  bar.done(`${n} documents in ${bodies.length} upserts of 500`);
  bar = progress('upserting documents through the gateway');
  const t0 = performance.now();
  let done = 0;
  await pool(bodies.length, INGEST_CONCURRENCY, async (i) => {
    const response = await request(`${base}/upsert`, { method: 'POST', headers, body: bodies[i] });
    if (response.status !== 200) throw new Error(`documents upsert → ${response.status} ${response.text.slice(0, 300)}`);
    done += 500;
    bar.update(`${Math.min(done, n)}/${n}`);
  });
  const ingestRate = n / ((performance.now() - t0) / 1000);
  bar.done(`${Math.round(ingestRate).toLocaleString('en-US')} documents/s`);
  row('text', `documents upsert, ${n / 1000}k docs (gateway)`, ingestRate, 'docs/s', { higherIsBetter: true, note: '500 per request, 4 in flight, WAL fsync per request' });

  const queries = corpus.queries(QUERIES);
  const body = (q: string[], filter?: object): string => JSON.stringify({ score_by: [{ type: 'text', fields: ['body'], query: q.join(' ') }], top_k: 10, ...(filter ? { filter } : {}) });
  const first = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[0]) });
  if (first.status !== 200) throw new Error(`search → ${first.status} ${first.text.slice(0, 300)}`);
  row('text', 'first search after ingest', first.ms, 'ms', { note: 'BM25 indexes are maintained on write' });

  bar = progress('brute-force BM25 (reference, JS)');
  const tb = performance.now();
  const truth = queries.map((q) => bruteForceTopK(corpus.docs, q, 10));
  const bruteMs = (performance.now() - tb) / queries.length;
  const truthFiltered = queries.map((q) => bruteForceTopK(corpus.docs, q, 10, (d) => d.bucket === 3));
  bar.done(`${bruteMs.toFixed(1)} ms per query`);

  const cases: [string, object | undefined, Scored[][]][] = [
    ['BM25 search', undefined, truth],
    ['BM25 search, filter 10 %', { bucket: { $eq: 3 } }, truthFiltered],
  ];
  for (const [label, filter, expected] of cases) {
    bar = progress(label);
    for (let i = 0; i < Math.min(20, queries.length); i++) await request(`${base}/search`, { method: 'POST', headers, body: body(queries[i], filter) });
    const times: number[] = [];
    let recall = 0;
    for (let i = 0; i < queries.length; i++) {
      const response = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[i], filter) });
      if (response.status !== 200) throw new Error(`${label}: ${response.status} ${response.text.slice(0, 300)}`);
      times.push(response.ms);
      recall += textRecall(expected[i]!, JSON.parse(response.text).matches, 10);
      bar.update(`${i + 1}/${queries.length}`);
    }
    const p50 = percentile(times, 50);
    bar.done(`p50 ${p50.toFixed(2)} ms, p99 ${percentile(times, 99).toFixed(2)} ms, recall@10 ${(recall / queries.length).toFixed(3)}`);
    section[label] = { p50Ms: p50, p99Ms: percentile(times, 99), recall: recall / queries.length };
    row('text', `${label} p50, top 10 (gateway)`, p50, 'ms', { reference: bruteMs, refLabel: 'brute-force BM25 in JS, per query' });
    row('text', `${label} p99`, percentile(times, 99), 'ms');
    row('text', `${label} recall@10 vs brute force`, recall / queries.length, 'recall', { target: 0.99, higherIsBetter: true });
  }

  // Recovery: kill -9 the store, start it again; the BM25 indexes are rebuilt from the stored documents.
  // (Skipped when the query section's restart already replaced the store process with one of its own.)
  if (bench.restartedStore !== null) {
    log('  restart of the store: skipped (the store was restarted by the query section; run with --only=text)');
    return;
  }
  bar = progress('kill -9 and restart of the store');
  await bench.system.killStore();
  const tr = performance.now();
  await bench.system.startStore();
  bench.storeUrl = bench.system.store.url;
  bench.storeChild = bench.system.store.child;
  const readyMs = performance.now() - tr;
  const again = await request(`${base}/search`, { method: 'POST', headers, body: body(queries[1]) });
  const same = again.status === 200 && textRecall(truth[1], JSON.parse(again.text).matches, 10) === 1;
  bar.done(`ready in ${readyMs.toFixed(0)} ms, first search ${again.ms.toFixed(1)} ms, results ${same ? 'as before' : 'DIFFERENT'}`);
  row('text', 'restart after kill -9 to ready (replay + BM25 rebuild)', readyMs, 'ms', { note: same ? 'same results after' : 'results differ after restart!' });
}
