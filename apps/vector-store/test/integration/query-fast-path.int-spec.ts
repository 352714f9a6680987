// Issue 13: query bodies are read from their bytes (src/api/query-body.ts) and answers printed from the engine's
// result (renderQueryResult). The vector must be exactly Math.fround(JSON.parse(text)) of every value as the
// client wrote it, the answer the same JSON as before, and every bad body still a 4xx in the gRPC-style shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestApp, TOKEN, type TestApp } from '../support/app.js';

const DIM = 8;
const base = '/internal/indexes/qfast';
// Value texts a client may send: long decimals (float32 printed as double), exponents, float32 rounding
// midpoints, subnormals, integers above 2^24, negative zero.
const tricky = ['0.10000000149011612', '-0.012345678838193417', '1.00000005960464477539062500', '1.0000000596046447753906250001', '1e-45', '7.006492321624087e-46', '16777217', '-0'];

async function postRaw(t: TestApp, body: string | Buffer): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${t.url}${base}/query`, {
    method: 'POST',
    headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

describe('queries read from the bytes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
    expect((await t.call('PUT', base, { dimension: DIM, metric: 'euclidean', vectorType: 'dense' })).status).toBe(201);
    const records = [
      `{"id":"t","values":[${tricky.join(',')}],"metadata":{"k":"v"}}`,
      '{"id":"u","values":[1,2,3,4,5,6,7,8.5]}',
      '{"id":"w","values":[0.4,-0.3,1e-7,123.456,3.4e38,0.000123,65504.5,1234567.9]}',
    ];
    expect((await t.call('POST', `${base}/vectors/upsert`, `{"namespace":"ns","vectors":[${records.join(',')}]}`)).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('reads the vector bit-exactly: the record written with the same texts is at distance 0', async () => {
    const res = await postRaw(t, `{"namespace":"ns","topK":1,"vector":[ ${tricky.join(' , ')} ]}`);
    expect(res.status).toBe(200);
    expect(res.body.matches).toEqual([{ id: 't', score: 0 }]);
  });

  it('answers the same JSON as JSON.stringify of the wire shape, values and metadata included', async () => {
    const res = await postRaw(t, '{"namespace":"ns","topK":3,"vector":[1,2,3,4,5,6,7,8.5],"includeValues":true,"includeMetadata":true}');
    expect(res.status).toBe(200);
    expect(res.text).toBe(JSON.stringify(res.body));
    expect(res.body.namespace).toBe('ns');
    expect(res.body.usage).toEqual({ readUnits: 1 });
    const byId = Object.fromEntries(res.body.matches.map((m: { id: string }) => [m.id, m]));
    expect(byId.u).toEqual({ id: 'u', score: 0, values: [1, 2, 3, 4, 5, 6, 7, 8.5] });
    expect(byId.w.values).toEqual([0.4, -0.3, 1e-7, 123.456, 3.4e38, 0.000123, 65504.5, 1234567.9]);
    expect(byId.t.metadata).toEqual({ k: 'v' });
    // Each value printed as a decimal that names the stored float32 (negative zero prints as 0, as JSON.stringify).
    expect((byId.t.values as number[]).map((v) => Math.fround(v))).toEqual(tricky.map((text) => Math.fround(JSON.parse(text) as number) + 0));
    // Query by id goes through the same reader and renderer.
    const byIdQuery = await postRaw(t, '{"namespace":"ns","topK":1,"id":"u"}');
    expect(byIdQuery.body).toEqual({ matches: [{ id: 'u', score: 0 }], namespace: 'ns', usage: { readUnits: 1 } });
  });

  it('400 in the gRPC-style shape for malformed vectors, NaN, out-of-range numbers, wrong dimension and bad bodies', async () => {
    const bad: [string | Buffer, RegExp][] = [
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,"8"]}', /vector\[7\] is not a finite number/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,null]}', /vector\[7\] is not a finite number/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,NaN]}', /not valid JSON/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,Infinity]}', /not valid JSON/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,1e39]}', /vector\[7\] is out of the float32 range/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,1e400]}', /vector\[7\] is not a finite number/],
      ['{"topK":1,"vector":[1,2,3]}', /dimension/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,8,9]}', /dimension/],
      ['{"topK":1,"vector":"1,2"}', /vector must be an array of numbers/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,8]', /not valid JSON/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,8,]}', /not valid JSON/],
      ['{"topK":1,"vector":[]}', /needs one of vector, sparseVector or id/],
      ['{"topK":0,"vector":[1,2,3,4,5,6,7,8]}', /topK/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,8],"id":"u"}', /either id or vector/],
      ['{"topK":1,"vector":[1,2,3,4,5,6,7,8],"namespace":7}', /namespace must be a string/],
      [Buffer.concat([Buffer.from('{"topK":1,"namespace":"'), Buffer.from([0xff, 0xfe]), Buffer.from('","vector":[1,2,3,4,5,6,7,8]}')]), /not valid UTF-8/],
    ];
    for (const [body, message] of bad) {
      const res = await postRaw(t, body);
      expect({ body: String(body), status: res.status }).toEqual({ body: String(body), status: 400 });
      expect(res.body).toEqual({ code: 3, message: expect.stringMatching(message), details: [] });
    }
  });

  it('413 for a body over the limit, and the server still answers', async () => {
    const huge = `{"topK":1,"vector":[${'0.123456789,'.repeat(500_000)}1]}`;
    const res = await postRaw(t, huge);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ message: expect.any(String) });
    expect((await postRaw(t, '{"namespace":"ns","topK":1,"vector":[1,2,3,4,5,6,7,8.5]}')).body.matches).toEqual([{ id: 'u', score: 0 }]);
  });
});
