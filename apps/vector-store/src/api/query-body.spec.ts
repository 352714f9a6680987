// The fast query reader against its reference, parseQueryRequest(parseJsonBytes(bytes)): the same request (the
// vector bit for bit) or the same error (message and status), for valid bodies, malformed vectors, wrong
// members, NaN/Infinity, numbers outside float32, bad UTF-8, duplicate keys and random corruptions.
import { describe, expect, it } from '@jest/globals';
import { isConiferError, parseJsonBytes, parseQueryRequest, type QueryRequest } from '@conifer/contracts';
import { corruptBytes, rng } from '@conifer/test-utils';
import { readQueryBody } from './query-body.js';

type Outcome = { ok: QueryRequest; body: unknown } | { error: string; status: number };

function outcome(run: () => { request: QueryRequest; body: unknown }): Outcome {
  try {
    const { request, body } = run();
    return { ok: request, body };
  } catch (error) {
    if (!isConiferError(error)) throw error;
    return { error: (error as Error).message, status: error.httpStatus };
  }
}

const reference = (bytes: Buffer): Outcome =>
  outcome(() => {
    const body = parseJsonBytes(bytes);
    return { request: parseQueryRequest(body), body };
  });
const fast = (bytes: Buffer): Outcome => outcome(() => readQueryBody(bytes));

const bits = (a: Float32Array | undefined) => (a === undefined ? undefined : Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));

/** The request with its vector as bits (so -0 and 0 differ) and the body's members other than `vector`. */
function comparable(result: Outcome): unknown {
  if (!('ok' in result)) return result;
  const { vector, sparseVector, ...rest } = result.ok;
  const body = typeof result.body === 'object' && result.body !== null ? { ...(result.body as Record<string, unknown>), vector: undefined } : result.body;
  return {
    ...rest,
    vector: bits(vector),
    sparse: sparseVector === undefined ? undefined : { indices: Array.from(sparseVector.indices), values: bits(sparseVector.values) },
    body,
  };
}

function expectSame(text: string | Buffer): Outcome {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const expected = reference(bytes);
  const actual = fast(bytes);
  expect(comparable(actual)).toEqual(comparable(expected));
  return actual;
}

const vectorText = (n: number, random: () => number) => Array.from({ length: n }, () => ((random() - 0.5) * 2).toFixed(4)).join(',');

describe('readQueryBody', () => {
  const random = rng(13);
  const v768 = vectorText(768, random);
  const valid = [
    `{"topK":10,"vector":[${v768}]}`,
    `{"vector":[${v768}],"topK":10,"namespace":"ns","includeValues":true,"includeMetadata":false}`,
    ' \n{ "top_k" : 3 , "vector" : [ 1 , -2.5 , 3e-2 , -0 ] , "include_metadata" : true , "filter" : { "g" : { "$in" : [ "a" , "b" ] } } } \t',
    '{"vector":[0.1,0.2],"sparseVector":{"indices":[4,1],"values":[0.5,0.25]},"topK":2}',
    '{"vector":[1,2],"vector":[3,4],"topK":1}',
    '{"vector":[1,2],"vector":null,"sparse_vector":{"indices":[1],"values":[2]},"topK":1}',
    '{"vector":null,"vector":[5],"topK":1}',
    '{"vector":[],"id":"abc","topK":4}',
    '{"id":"été 🌲","topK":4,"namespace":"__default__"}',
    '{"vector":[1],"topK":1,"namespace":"a","namespace":"b"}',
    '{"vector":[1],"topK":1,"scanFactor":2,"maxCandidates":100,"unknown":{"deep":[[[{"x":null}]]],"t":true,"f":false}}',
    '{"vector":[1],"topK":1,"filter":{"vector":{"$eq":"x"}}}',
    '{"vector":[1],"topK":1,"namespace":"n\\u0073"}',
    '{"\\u0076ector":[1,2],"topK":1}',
    '{"vector":[1],"topK":1,"__proto__":{"x":1}}',
    '{"vector":[1.00000005960464477539062500,0.10000000149011612,1e-45,3.4028235e38,16777217],"topK":1}',
  ];

  it('gives the same request as the reference for valid bodies, the vector from the bytes', () => {
    for (const text of valid) {
      const result = expectSame(text);
      expect('ok' in result).toBe(true);
    }
    const read = readQueryBody(Buffer.from(valid[0]!));
    expect(read.request.vector).toBeInstanceOf(Float32Array);
    expect(read.request.vector!.length).toBe(768);
    expect(read.request).toMatchObject({ topK: 10, namespace: '', includeValues: false, includeMetadata: false });
    // The namespace is echoed from the body as the client wrote it.
    expect((readQueryBody(Buffer.from(valid[8]!)).body as { namespace: string }).namespace).toBe('__default__');
  });

  it('gives the reference error (Pinecone 4xx) for malformed vectors and bodies', () => {
    const invalid = [
      '', '   ', 'null', '[]', '"x"', '1', '{', '{}', '{"topK":1}', '{"vector":[1]}', '{"vector":[1],"topK":0}', '{"vector":[1],"topK":"3"}',
      '{"vector":"1,2","topK":1}', '{"vector":{"0":1},"topK":1}', '{"vector":[1,"2"],"topK":1}', '{"vector":[1,null],"topK":1}', '{"vector":[1,[2]],"topK":1}',
      '{"vector":[NaN],"topK":1}', '{"vector":[Infinity],"topK":1}', '{"vector":[-Infinity],"topK":1}', '{"vector":[1e39],"topK":1}', '{"vector":[-3.5e38],"topK":1}',
      '{"vector":[1e400],"topK":1}', '{"vector":[01],"topK":1}', '{"vector":[1.],"topK":1}', '{"vector":[.5],"topK":1}', '{"vector":[+1],"topK":1}',
      '{"vector":[1,],"topK":1}', '{"vector":[,1],"topK":1}', '{"vector":[1 2],"topK":1}', '{"vector":[1],"topK":1,}', '{"vector":[1],"topK":1} x',
      '{"vector":[1],"topK":1}{}', '{"vector":[1],"id":"a","topK":1}', '{"vector":[1],"topK":10001}', '{"vector":[1],"topK":1001,"includeValues":true}',
      '{"vector":[1],"topK":1,"namespace":3}', '{"vector":[1],"topK":1,"namespace":"bad\\u0001"}', '{"vector":[1],"topK":1,"includeValues":"yes"}',
      '{"vector":[1],"topK":1,"filter":{"$bad":1}}', '{"vector":[1],"topK":1,"filter":[1]}', '{"vector":[1],"topK":1,"scanFactor":-1}',
      '{"vector":[1],"topK":1,"top_k":2}', '{"vector":[1],"topK":1,"x":tru}', '{"vector":[1],"topK":1,"x":[1,]}', '{"vector":[1],"topK":1,"n":"a\u0001"}',
      '{"sparseVector":{"indices":[1,1],"values":[1,2]},"topK":1}', '\ufeff{"vector":[1],"topK":1}', '{"vector":[1],"topK":1}\u00a0',
      `{"vector":[1],"topK":1,"x":${'['.repeat(20_000)}}`,
    ];
    for (const text of invalid) {
      const result = expectSame(text);
      if (!('error' in result)) throw new Error(`taken as valid: ${text.slice(0, 80)}`);
      expect(result.status).toBe(400);
    }
    expectSame(Buffer.from([0x7b, 0x22, 0x76, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
    expectSame(Buffer.from(`{"vector":[1],"topK":1,"namespace":"\xff"}`, 'latin1'));
    // A vector longer than any index: the parser takes it (the index refuses its dimension).
    expect('ok' in expectSame(`{"vector":[${'1,'.repeat(30_000)}1],"topK":1}`)).toBe(true);
    // Nesting too deep for the scanner's recursion: the reference path reads it (JSON.parse takes it).
    const deep = Buffer.from(`{"vector":[1],"topK":1,"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    expect('ok' in reference(deep) && 'ok' in fast(deep)).toBe(true);
    expect(bits(readQueryBody(deep).request.vector)).toEqual(bits(Float32Array.of(1)));
  });

  it('agrees with the reference on random corruptions of valid bodies (property, fixed seed)', () => {
    const corrupt = rng(14);
    const alphabet = Buffer.from('{}[]:,"\\ .-+eE0123456789abfnrtuNI\n\u00e9');
    const sources = valid.map((text) => (text.length > 400 ? `{"topK":10,"vector":[${vectorText(12, corrupt)}],"namespace":"x"}` : text));
    let errors = 0;
    for (let n = 0; n < 4000; n++) {
      if ('error' in expectSame(corruptBytes(Buffer.from(sources[n % sources.length]!), corrupt, alphabet))) errors++;
    }
    expect(errors).toBeGreaterThan(1000);
    expect(errors).toBeLessThan(4000);
  });
});
