import { describe, expect, it } from '@jest/globals';
import {
  parseDeleteRequest,
  parseDescribeIndexStatsRequest,
  parseFetchByMetadataRequest,
  parseFetchQuery,
  parseQueryRequest,
  parseUpdateRequest,
  parseUpsertRequest,
} from './parsers.js';
import { isWellFormedUnicode } from './unicode.js';

describe('lone UTF-16 surrogates are refused on every data-plane path (issue 14 item 13)', () => {
  const bad = ['s\ud800', 's\udfff', '\udc00x', 'x\ud83d'];

  it.each(bad)('upsert id %j', (id) => {
    expect(() => parseUpsertRequest({ vectors: [{ id, values: [1] }] })).toThrow(/vectors\[0\]\.id is not well-formed Unicode/);
  });

  it.each(bad)('metadata key, string and list element %j', (text) => {
    expect(() => parseUpsertRequest({ vectors: [{ id: 'a', values: [1], metadata: { [text]: 1 } }] })).toThrow(/not well-formed/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'a', values: [1], metadata: { k: text } }] })).toThrow(/not well-formed/);
    expect(() => parseUpsertRequest({ vectors: [{ id: 'a', values: [1], metadata: { k: ['ok', text] } }] })).toThrow(/not well-formed/);
    expect(() => parseUpdateRequest({ id: 'a', setMetadata: { k: text } })).toThrow(/not well-formed/);
  });

  it.each(bad)('ids of fetch, delete, update and query %j', (id) => {
    expect(() => parseFetchQuery({ ids: ['ok', id] })).toThrow(/not well-formed/);
    expect(() => parseDeleteRequest({ ids: [id] })).toThrow(/not well-formed/);
    expect(() => parseUpdateRequest({ id, values: [1] })).toThrow(/not well-formed/);
    expect(() => parseQueryRequest({ id, topK: 1 })).toThrow(/not well-formed/);
  });

  it.each(bad)('namespaces %j', (namespace) => {
    expect(() => parseUpsertRequest({ namespace, vectors: [{ id: 'a', values: [1] }] })).toThrow(/namespace/);
    expect(() => parseFetchQuery({ ids: ['a'], namespace })).toThrow(/namespace/);
  });

  it('accepts well-formed text outside the BMP', () => {
    const id = 'emoji-\ud83d\ude00';
    expect(parseUpsertRequest({ vectors: [{ id, values: [1], metadata: { '\u00e9t\u00e9': ['\ud83c\udf32'] } }] }).vectors[0]!.id).toBe(id);
  });

  it('isWellFormedUnicode agrees with a byte round trip', () => {
    for (const text of ['', 'abc', '\ud83d\ude00', ...bad, '\ud800\ud800\udc00']) {
      const roundTrip = Buffer.from(text, 'utf8').toString('utf8') === text;
      expect(isWellFormedUnicode(text)).toBe(roundTrip);
    }
  });
});

describe('request bodies that are not objects (issue 14 item 15)', () => {
  it.each([null, [], 'x', 1, true])('400 for describe_index_stats and fetch_by_metadata body %j', (body) => {
    expect(() => parseDescribeIndexStatsRequest(body)).toThrow(/body must be a JSON object/);
    expect(() => parseFetchByMetadataRequest(body)).toThrow(/body must be a JSON object/);
    expect(() => parseQueryRequest(body)).toThrow(/body must be a JSON object/);
  });

  it('no body at all is an empty request', () => {
    expect(parseDescribeIndexStatsRequest(undefined)).toEqual({});
    expect(parseFetchByMetadataRequest(undefined).limit).toBe(100);
  });
});

describe('topK with values or metadata (issue 14 item 11)', () => {
  it('caps topK at 1000 when values or metadata are included, as Pinecone does', () => {
    expect(parseQueryRequest({ vector: [1], topK: 1000, includeValues: true }).topK).toBe(1000);
    expect(parseQueryRequest({ vector: [1], topK: 10_000 }).topK).toBe(10_000);
    expect(() => parseQueryRequest({ vector: [1], topK: 1001, includeValues: true })).toThrow(/at most 1000 when includeValues or includeMetadata/);
    expect(() => parseQueryRequest({ vector: [1], top_k: 10_000, include_metadata: true })).toThrow(/at most 1000/);
  });
});
