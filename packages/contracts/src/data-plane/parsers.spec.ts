import { describe, expect, it } from '@jest/globals';
import {
  decodePaginationToken,
  encodePaginationToken,
  normalizeNamespace,
  parseDeleteRequest,
  parseFetchQuery,
  parseListQuery,
  parseQueryRequest,
  parseUpdateRequest,
  parseUpsertRequest,
} from './parsers.js';

describe('data-plane parsers', () => {
  it('treats missing, "" and "__default__" as the default namespace', () => {
    expect(normalizeNamespace(undefined)).toBe('');
    expect(normalizeNamespace('')).toBe('');
    expect(normalizeNamespace('__default__')).toBe('');
    expect(normalizeNamespace('ns-1')).toBe('ns-1');
    expect(() => normalizeNamespace('x\n')).toThrow(/printable ASCII/);
    expect(() => normalizeNamespace('x'.repeat(513))).toThrow();
  });

  it('accepts camelCase and snake_case', () => {
    const a = parseQueryRequest({ topK: 3, vector: [1, 2], includeMetadata: true, sparseVector: { indices: [2, 1], values: [0.5, 0.25] } });
    const b = parseQueryRequest({ top_k: 3, vector: [1, 2], include_metadata: true, sparse_vector: { indices: [2, 1], values: [0.5, 0.25] } });
    expect(a).toEqual(b);
    expect(Array.from(a.sparseVector!.indices)).toEqual([1, 2]);
    expect(Array.from(a.sparseVector!.values)).toEqual([0.25, 0.5]);
    const up = parseUpsertRequest({ vectors: [{ id: 'x', values: [1], sparse_values: { indices: [1], values: [2] } }] });
    expect(up.vectors[0]!.sparseValues).toBeDefined();
    expect(parseUpdateRequest({ id: 'x', set_metadata: { a: 1 } })).toEqual({ kind: 'id', namespace: '', id: 'x', setMetadata: { a: 1 } });
    expect(parseDeleteRequest({ delete_all: true, namespace: 'n' })).toEqual({ kind: 'all', namespace: 'n' });
  });

  it('rejects NaN, Infinity, float32 overflow, duplicate sparse indices and bad ids', () => {
    expect(() => parseUpsertRequest({ vectors: [{ id: 'x', values: [Number.NaN] }] })).toThrow(/finite/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'x', values: [1e300] }] })).toThrow(/float32/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'x', values: [1], sparseValues: { indices: [1, 1], values: [1, 2] } }] })).toThrow(/more than once/);
    expect(() => parseUpsertRequest({ vectors: [{ id: '', values: [1] }] })).toThrow(/empty/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'x'.repeat(513), values: [1] }] })).toThrow(/512/);
    expect(() => parseUpsertRequest({ vectors: [] })).toThrow(/empty/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'x', values: [1], metadata: { __proto__x: 1 } }] })).not.toThrow();
    expect(() => parseUpsertRequest(JSON.parse('{"vectors":[{"id":"x","values":[1],"metadata":{"__proto__":{"a":1}}}]}'))).toThrow();
  });

  it('validates query shape and limits', () => {
    expect(() => parseQueryRequest({ vector: [1] })).toThrow(/topK/);
    expect(() => parseQueryRequest({ topK: 1001, sparseVector: { indices: [1], values: [1] } })).toThrow(/1000/);
    expect(() => parseQueryRequest({ topK: 1, id: 'a', vector: [1] })).toThrow(/either/);
    expect(parseQueryRequest({ topK: 1, id: 'a', scanFactor: 2, maxCandidates: 500 }).id).toBe('a');
  });

  it('parses query strings with repeated ids, snake-case tokens and limits', () => {
    expect(parseFetchQuery({ ids: ['a', 'b'], namespace: '__default__' })).toEqual({ namespace: '', ids: ['a', 'b'] });
    expect(parseFetchQuery({ ids: 'a' }).ids).toEqual(['a']);
    expect(() => parseFetchQuery({})).toThrow(/at least one id/);
    const token = encodePaginationToken('doc#42');
    expect(parseListQuery({ prefix: 'doc#', limit: '5', pagination_token: token })).toEqual({
      namespace: '',
      prefix: 'doc#',
      limit: 5,
      paginationToken: token,
    });
    expect(decodePaginationToken(token)).toBe('doc#42');
    expect(() => parseListQuery({ limit: '0' })).toThrow(/limit/);
    expect(() => decodePaginationToken('not a token!')).toThrow(/paginationToken/);
  });
});
