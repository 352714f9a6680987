import { describe, expect, it } from '@jest/globals';
import { decodePaginationToken, parseListNamespacesQuery, parseQueryRequest } from '@conifer/contracts';
import { renderFetch, renderListNamespaces, renderNamespace, renderQuery, renderStats } from './render.js';

describe('wire rendering of engine results', () => {
  it('lists namespaces by the names clients see, in snake_case, with pagination', () => {
    const summaries = [
      { name: 'empty', recordCount: 0 },
      { name: '', recordCount: 1 },
    ];
    expect(renderListNamespaces(summaries, parseListNamespacesQuery({}))).toEqual({
      namespaces: [
        { name: '__default__', record_count: 1 },
        { name: 'empty', record_count: 0 },
      ],
      total_count: 2,
    });
    const page = renderListNamespaces(summaries, parseListNamespacesQuery({ limit: '1' }));
    expect(page.namespaces).toEqual([{ name: '__default__', record_count: 1 }]);
    expect(decodePaginationToken(page.pagination!.next)).toBe('__default__');
    const next = renderListNamespaces(summaries, parseListNamespacesQuery({ limit: '1', paginationToken: page.pagination!.next }));
    expect(next).toEqual({ namespaces: [{ name: 'empty', record_count: 0 }], total_count: 2 });
    expect(renderListNamespaces(summaries, parseListNamespacesQuery({ prefix: '__' })).total_count).toBe(1);
    expect(renderNamespace({ name: '', recordCount: 3 })).toEqual({ name: '__default__', record_count: 3 });
  });

  it('renders float32 values as their shortest decimals, read units by namespace size and ids asked', () => {
    const request = parseQueryRequest({ vector: [1, 0], topK: 2, includeValues: true, includeMetadata: true });
    const rendered = renderQuery(
      { matches: [{ id: 'a', score: Math.fround(0.1), values: Float32Array.of(0.1, 0.2), metadata: { k: 1 } }], namespaceSize: 250_000, plan: { plan: 'ann', candidates: 10 } },
      request,
    );
    expect(rendered).toEqual({ matches: [{ id: 'a', score: 0.1, values: [0.1, 0.2], metadata: { k: 1 } }], namespace: '', usage: { readUnits: 3 } });
    const fetched = renderFetch({ records: [{ id: 's', sparseValues: { indices: Uint32Array.of(2), values: Float32Array.of(0.5) } }] }, 'ns', 11);
    expect(fetched).toEqual({ vectors: { s: { id: 's', values: [], sparseValues: { indices: [2], values: [0.5] } } }, namespace: 'ns', usage: { readUnits: 2 } });
    expect(renderStats({ namespaces: [{ name: '', recordCount: 2 }], total: 2 }, { dimension: 2, metric: 'cosine', vectorType: 'dense' })).toEqual({
      namespaces: { '': { vectorCount: 2 } },
      indexFullness: 0,
      totalVectorCount: 2,
      metric: 'cosine',
      vectorType: 'dense',
      dimension: 2,
    });
  });
});
