// Issue 12 part 4: upsert bodies are read from their bytes (src/api/upsert-body.ts), on the event loop and on
// a parse worker. What is stored must be exactly Math.fround(JSON.parse(text)) for every value as written by
// the client, visible at once (read-your-writes), and malformed values must still be 400 in the gRPC-style shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rng } from '@conifer/test-utils';
import { startTestApp, TOKEN, type TestApp } from '../support/app.js';

const DIM = 8;
const base = '/internal/indexes/fast';
const f32bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

// Value texts a client may send: long decimals (float32 printed as double), exponents, float32 rounding
// midpoints, subnormals, integers above 2^24, negative zero.
const tricky = [
  ['0.10000000149011612', '-0.012345678838193417', '1.00000005960464477539062500', '1.0000000596046447753906250001', '1e-45', '7.006492321624087e-46', '16777217', '-0'],
  ['3.4028234663852886e38', '-3.4028235e38', '1.17549435e-38', '2.5E-10', '123.456e-7', '0.000000000000000000000000000000000000000000001', '123456789012345678901234567890', '0'],
];

/** The stored float32 values by id, read in-process (bit-exact, negative zero included). */
function storedValues(t: TestApp, namespace: string, ids: string[]): Map<string, Float32Array> {
  const { records } = t.registry.get('fast').index.fetch({ namespace, ids });
  return new Map(records.map((r) => [r.id, r.values!]));
}

async function postRaw(t: TestApp, route: string, body: string | Buffer): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}${base}/${route}`, {
    method: 'POST',
    headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: await res.json() };
}

describe.each([0, 1])('upserts read from the bytes (parse workers: %i)', (workers) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, workers);
    expect((await t.call('PUT', base, { dimension: DIM, metric: 'euclidean', vectorType: 'dense' })).status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stores exactly fround(JSON.parse(text)) of every value as written, fetchable at once', async () => {
    const records = tricky.map((texts, i) => `{"id":"t${i}","values":[${texts.join(' , ')}],"metadata":{"i":${i}}}`);
    const res = await postRaw(t, 'vectors/upsert', `{"namespace":"ns","vectors":[${records.join(',')}]}`);
    expect(res).toEqual({ status: 200, body: { upsertedCount: 2 } });
    // In-process: the stored float32 bits (negative zero included).
    const stored = storedValues(t, 'ns', ['t0', 't1']);
    for (let i = 0; i < tricky.length; i++) {
      const values = stored.get(`t${i}`)!;
      expect(Array.from(values, f32bits)).toEqual(tricky[i]!.map((text) => f32bits(Math.fround(JSON.parse(text) as number))));
    }
    // Over HTTP: what a client reads back names the same float32s.
    const fetched = await t.call('GET', `${base}/vectors/fetch?namespace=ns&ids=t0&ids=t1`);
    expect(fetched.status).toBe(200);
    for (let i = 0; i < tricky.length; i++) {
      const values = fetched.body.vectors[`t${i}`].values as number[];
      expect(values.map((v) => f32bits(Math.fround(v) + 0))).toEqual(tricky[i]!.map((text) => f32bits(Math.fround(JSON.parse(text) as number) + 0)));
      expect(fetched.body.vectors[`t${i}`].metadata).toEqual({ i });
    }
  });

  it('a body of many chunks (1000 records): every value stored exactly', async () => {
    const random = rng(99 + workers);
    const texts: string[][] = [];
    const records: string[] = [];
    for (let r = 0; r < 1000; r++) {
      const row = Array.from({ length: DIM }, () => JSON.stringify(Math.fround((random() - 0.5) * 2 ** (Math.floor(random() * 20) - 10))));
      texts.push(row);
      records.push(`{"id":"r${r}","values":[${row.join(',')}]}`);
    }
    const body = Buffer.from(`{"vectors":[${records.join(',')}]}`);
    expect(body.length).toBeGreaterThan(100_000);
    expect(await postRaw(t, 'vectors/upsert', body)).toEqual({ status: 200, body: { upsertedCount: 1000 } });
    const stored = storedValues(t, '', texts.map((_, r) => `r${r}`));
    for (let r = 0; r < 1000; r++) {
      expect(Array.from(stored.get(`r${r}`)!, f32bits)).toEqual(texts[r]!.map((text) => f32bits(Math.fround(JSON.parse(text) as number))));
    }
  });

  it('bodies read into reused buffers: larger then smaller, concurrent, chunked, after a refused one — each stored as sent', async () => {
    // The store copies upsert bodies into buffers it reuses (src/api/body-buffers.ts): a body must never see
    // another's bytes, whatever the order of sizes, with 4 in flight, with and without a Content-Length.
    const random = rng(7 + workers);
    const sent = new Map<string, string[]>();
    // Bodies from ~100 bytes to ~1.9 MB (a padding string in the metadata), so that buffers of several sizes are
    // taken, given back and taken again for shorter bodies.
    const bodyOf = (batch: number, count: number, pad: number): string => {
      const records: string[] = [];
      for (let r = 0; r < count; r++) {
        const row = Array.from({ length: DIM }, () => (random() * 2 - 1).toFixed(1 + Math.floor(random() * 9)));
        sent.set(`b${batch}-${r}`, row);
        records.push(`{"id":"b${batch}-${r}","values":[${row.join(',')}],"metadata":{"batch":${batch},"pad":"${'p'.repeat(pad)}"}}`);
      }
      return `{"namespace":"reuse","vectors":[${records.join(',')}]}`;
    };
    const counts: [number, number][] = [[1000, 1800], [40, 0], [900, 600], [1, 0], [1000, 1700], [700, 100], [5, 10], [1000, 1000], [90, 3], [800, 2000], [2, 0], [1000, 900]];
    const chunked = async (body: string): Promise<number> => {
      // No Content-Length: a stream body is sent chunked.
      const bytes = Buffer.from(body);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 50_000) controller.enqueue(bytes.subarray(at, at + 50_000));
          controller.close();
        },
      });
      const res = await fetch(`${t.url}${base}/vectors/upsert`, {
        method: 'POST',
        headers: { 'x-conifer-internal-token': TOKEN, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      await res.arrayBuffer();
      return res.status;
    };
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < counts.length) {
          const batch = next++;
          const [count, pad] = counts[batch]!;
          const body = bodyOf(batch, count, pad);
          expect(body.length).toBeLessThan(2 * 1024 * 1024);
          if (batch % 3 === 1) expect(await chunked(body)).toBe(200);
          else expect(await postRaw(t, 'vectors/upsert', body)).toEqual({ status: 200, body: { upsertedCount: count } });
          // A refused body in between: its buffer goes back too.
          if (batch === 5) expect((await postRaw(t, 'vectors/upsert', '{"vectors":[{"id":"x","values":[1,2,3]}]}')).status).toBe(400);
        }
      }),
    );
    const stored = storedValues(t, 'reuse', [...sent.keys()]);
    expect(stored.size).toBe(sent.size);
    for (const [id, row] of sent) expect(Array.from(stored.get(id)!, f32bits)).toEqual(row.map((text) => f32bits(Math.fround(Number(text)))));
  });

  it('a body the scan leaves to the reference path (an escaped key) is stored the same', async () => {
    const texts = ['0.1', '-2.5e-3', '16777217', '1e-45', '3', '4', '5', '6'];
    const body = `{"vectors":[{"id":"esc","\\u0076alues":[${texts.join(',')}]},{"id":"plain","values":[${texts.join(',')}]}],"namespace":"ref"}`;
    expect(await postRaw(t, 'vectors/upsert', body)).toEqual({ status: 200, body: { upsertedCount: 2 } });
    const stored = storedValues(t, 'ref', ['esc', 'plain']);
    const want = texts.map((text) => f32bits(Math.fround(JSON.parse(text) as number)));
    expect(Array.from(stored.get('esc')!, f32bits)).toEqual(want);
    expect(Array.from(stored.get('plain')!, f32bits)).toEqual(want);
  });

  it('400 in the gRPC-style shape for values that are not finite float32 or not JSON; nothing stored', async () => {
    const before = (await t.call('POST', `${base}/describe_index_stats`, {})).body.totalVectorCount as number;
    const cases: [string, RegExp][] = [
      ['1e39', /vectors\[0\]\.values\[3\] is out of the float32 range/],
      ['1e400', /vectors\[0\]\.values\[3\] is not a finite number/],
      ['"1"', /vectors\[0\]\.values\[3\] is not a finite number/],
      ['01', /not valid JSON/],
      ['1.', /not valid JSON/],
      ['NaN', /not valid JSON/],
    ];
    for (const [bad, message] of cases) {
      const res = await postRaw(t, 'vectors/upsert', `{"vectors":[{"id":"bad","values":[1,2,3,${bad},5,6,7,8]}]}`);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ code: 3, message: expect.stringMatching(message), details: [] });
    }
    const wrongDim = await postRaw(t, 'vectors/upsert', '{"vectors":[{"id":"bad","values":[1,2,3]}]}');
    expect(wrongDim.status).toBe(400);
    expect((await t.call('POST', `${base}/describe_index_stats`, {})).body.totalVectorCount).toBe(before);
  });
});
