// Metadata schemas (2026-07 index schema, POST /namespaces schema): only declared filterable fields get posting
// lists; a filter on any other field is still answered exactly, by checking every record.
import { describe, expect, it } from '@jest/globals';
import { parseCreateNamespaceRequest, parseQueryRequest, parseUpsertRequest, type IndexSchema } from '@conifer/contracts';
import { DEFAULT_SEARCH_OPTIONS, VectorIndex } from './vector-index.js';

const schema: IndexSchema = {
  fields: { _values: { type: 'dense_vector', dimension: 2, metric: 'cosine' }, genre: { type: 'string', filterable: true } },
};
const EXACT = { ...DEFAULT_SEARCH_OPTIONS, annMinVectors: Number.MAX_SAFE_INTEGER };

function fill(index: VectorIndex, namespace: string): void {
  const vectors = Array.from({ length: 20 }, (_, i) => ({
    id: `v${i}`,
    values: [1, i / 20],
    metadata: { genre: i % 2 === 0 ? 'drama' : 'comedy', year: 2000 + i },
  }));
  index.apply(index.prepareUpsert(parseUpsertRequest({ namespace, vectors })));
}

function ids(index: VectorIndex, namespace: string, filter: object): string[] {
  return index
    .query(parseQueryRequest({ namespace, vector: [1, 0], topK: 100, filter }))
    .matches.map((m) => m.id)
    .sort();
}

describe('metadata schemas', () => {
  it('gives posting lists to the index schema’s filterable fields only, and still filters on the others', () => {
    const index = new VectorIndex({ dimension: 2, metric: 'cosine', vectorType: 'dense', schema }, EXACT);
    fill(index, 'a');
    expect(index.describeNamespace('a').indexedFields).toEqual(['genre']);
    expect(ids(index, 'a', { genre: 'drama' })).toHaveLength(10);
    // year has no postings: the filter is checked on every record and gives the same answer.
    expect(ids(index, 'a', { year: { $gte: 2015 } })).toEqual(['v15', 'v16', 'v17', 'v18', 'v19']);
    expect(ids(index, 'a', { year: 2003 })).toEqual(['v3']);
  });

  it('indexes every field when no metadata field is declared', () => {
    const index = new VectorIndex({ dimension: 2, metric: 'cosine', vectorType: 'dense' }, EXACT);
    fill(index, '');
    expect(index.describeNamespace('').indexedFields).toBeUndefined();
    expect(ids(index, '', { year: 2003 })).toEqual(['v3']);
  });

  it('lets a namespace schema replace the index’s, and echoes it', () => {
    const index = new VectorIndex({ dimension: 2, metric: 'cosine', vectorType: 'dense', schema }, EXACT);
    const request = parseCreateNamespaceRequest({ name: 'years', schema: { fields: { year: { filterable: true } } } });
    index.apply(index.prepareCreateNamespace(request.name, request.schema));
    fill(index, 'years');
    expect(index.describeNamespace('years')).toEqual({
      name: 'years',
      recordCount: 20,
      schema: { fields: { year: { filterable: true } } },
      indexedFields: ['year'],
    });
    expect(ids(index, 'years', { genre: 'comedy' })).toHaveLength(10);
    expect(ids(index, 'years', { year: { $lt: 2002 } })).toEqual(['v0', 'v1']);
  });

  it('400 for a namespace schema that is not a metadata schema', () => {
    expect(() => parseCreateNamespaceRequest({ name: 'x', schema: { fields: { x: { filterable: false } } } })).toThrow(/filterable/);
    expect(() => parseCreateNamespaceRequest({ name: 'x', schema: { fields: { v: { type: 'dense_vector', dimension: 2 } } } })).toThrow(
      /metadata fields only/,
    );
  });
});
