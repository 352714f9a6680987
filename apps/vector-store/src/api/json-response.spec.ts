// The direct renderer must produce exactly what JSON.stringify produces for the same answer (same key order),
// whatever the ids, namespaces and metadata contain, and refuse answers over the cap.
import { describe, expect, it } from '@jest/globals';
import { parseQueryRequest, type FetchResponse, type QueryResponse } from '@conifer/contracts';
import type { EngineMatch, QueryResult } from '@conifer/engine';
import { renderFetchResponse, renderQueryResponse, renderQueryResult, ResponseTooLargeError } from './json-response.js';
import { renderQuery } from './render.js';

let seed = 7;
const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const ALPHABET = ['a', 'Z', '9', '"', '\\', '/', '\u0000', '\u001f', '\u007f', 'é', '森', '🌲', '\u2028', '\u2029', '\ud800', '\udfff', ' '];
const randomString = (max: number) => Array.from({ length: 1 + Math.floor(random() * max) }, () => ALPHABET[Math.floor(random() * ALPHABET.length)]).join('');
const shortest = (x: number) => Number(Math.fround(x).toPrecision(7));

function randomQuery(): QueryResponse {
  const matches = Array.from({ length: Math.floor(random() * 12) }, () => {
    const match: QueryResponse['matches'][number] = { id: randomString(12), score: shortest(random() * 2 - 1) };
    if (random() < 0.5) match.values = Array.from({ length: 4 }, () => shortest((random() - 0.5) * 10 ** Math.floor(random() * 20 - 10)));
    if (random() < 0.3) match.sparseValues = { indices: [1, 5, 9], values: [0.5, 0.25, shortest(random())] };
    if (random() < 0.5) match.metadata = { [randomString(5)]: randomString(8), n: 3.5, ok: true, list: [randomString(3)] };
    return match;
  });
  return { matches, namespace: randomString(6), usage: { readUnits: 1 + Math.floor(random() * 5) } };
}

describe('renderQueryResponse / renderFetchResponse', () => {
  it('are byte-identical to JSON.stringify on random answers (escaping, unicode, lone surrogates, numbers)', () => {
    for (let i = 0; i < 500; i++) {
      const query = randomQuery();
      expect(renderQueryResponse(query).toString('utf8')).toBe(JSON.stringify(query));
      const vectors: FetchResponse['vectors'] = {};
      for (const match of query.matches) {
        const record: FetchResponse['vectors'][string] = { id: match.id, values: match.values ?? [] };
        if (match.sparseValues) record.sparseValues = match.sparseValues;
        if (match.metadata) record.metadata = match.metadata;
        vectors[match.id] = record;
      }
      const fetched: FetchResponse = { vectors, namespace: query.namespace, usage: query.usage };
      expect(renderFetchResponse(fetched).toString('utf8')).toBe(JSON.stringify(fetched));
    }
  });

  it('keeps pagination where the answer has it', () => {
    const answer = { vectors: {}, namespace: '', pagination: { next: 'abc' }, usage: { readUnits: 1 } };
    expect(JSON.parse(renderFetchResponse(answer).toString('utf8'))).toEqual(answer);
  });

  it('refuses an answer over the cap', () => {
    const big: QueryResponse = { matches: Array.from({ length: 100 }, (_, i) => ({ id: `m${i}`, score: 0.5, values: Array(1000).fill(0.123456) })), namespace: '', usage: { readUnits: 1 } };
    expect(() => renderQueryResponse(big, 64 * 1024)).toThrow(ResponseTooLargeError);
    expect(renderQueryResponse(big).length).toBe(Buffer.byteLength(JSON.stringify(big)));
  });
});

describe('renderQueryResult', () => {
  /** A float32 of any exponent, or a short decimal as clients write them. */
  const randomFloat = (): number => (random() < 0.5 ? Math.fround((random() - 0.5) * 10 ** Math.floor(random() * 30 - 15)) : Math.fround(Number((random() - 0.5).toFixed(4))));

  function randomResult(): QueryResult {
    const matches: EngineMatch[] = Array.from({ length: Math.floor(random() * 12) }, () => {
      const match: EngineMatch = { id: randomString(12), score: random() < 0.1 ? Math.fround(random() * 1e20) : randomFloat() };
      if (random() < 0.7) match.values = Float32Array.from({ length: Math.floor(random() * 20) }, randomFloat);
      if (random() < 0.3) match.sparseValues = { indices: Uint32Array.of(1, 5, 4_000_000_000), values: Float32Array.from({ length: 3 }, randomFloat) };
      if (random() < 0.5) match.metadata = { [randomString(5)]: randomString(8), n: 3.5, ok: true, list: [randomString(3)] };
      return match;
    });
    return { matches, namespaceSize: Math.floor(random() * 1_000_000), plan: { plan: 'ann', candidates: 0 } };
  }

  it('prints exactly the bytes of JSON.stringify(renderQuery(...)) from the engine result', () => {
    for (let i = 0; i < 500; i++) {
      const result = randomResult();
      const request = parseQueryRequest({ vector: [1], topK: 20, includeValues: random() < 0.5, includeMetadata: random() < 0.5 });
      const namespace = random() < 0.3 ? '' : randomString(6);
      const expected = JSON.stringify(renderQuery(result, { ...request, namespace }));
      expect(renderQueryResult(result, request, namespace).toString('utf8')).toBe(expected);
      // The reference renderer of the wire shape agrees too (the one path fetch still takes).
      expect(renderQueryResponse(renderQuery(result, { ...request, namespace })).toString('utf8')).toBe(expected);
    }
  });

  it('refuses an answer over the cap', () => {
    const matches = Array.from({ length: 100 }, (_, i): EngineMatch => ({ id: `m${i}`, score: 0.5, values: new Float32Array(1000).fill(0.123456) }));
    const request = parseQueryRequest({ vector: [1], topK: 100, includeValues: true });
    const result: QueryResult = { matches, namespaceSize: 100, plan: { plan: 'exact', candidates: 100 } };
    expect(() => renderQueryResult(result, request, '', 64 * 1024)).toThrow(ResponseTooLargeError);
    expect(renderQueryResult(result, request, '').toString('utf8')).toBe(JSON.stringify(renderQuery(result, { ...request, namespace: '' })));
  });
});
