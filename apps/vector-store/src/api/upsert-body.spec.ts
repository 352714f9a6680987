// The fast upsert reader against its reference, parseUpsertRequest(parseJsonBytes(bytes)): the same request
// (values bit for bit) or the same error, for generated numbers, edge cases, malformed bodies and random
// corruptions of valid ones; with the values arrays read by the compiled binding and by the module's own reader.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { isConiferError, parseJsonBytes, parseUpsertRequest, type UpsertRequest } from '@conifer/contracts';
import { corruptBytes, rng } from '@conifer/test-utils';
import { readUpsertBody, useNativeValuesScan } from './upsert-body.js';

type Outcome = { ok: UpsertRequest } | { error: string; status: number };

function outcome(run: () => UpsertRequest): Outcome {
  try {
    return { ok: run() };
  } catch (error) {
    if (!isConiferError(error)) throw error;
    return { error: (error as Error).message, status: error.httpStatus };
  }
}

const reference = (bytes: Buffer): Outcome => outcome(() => parseUpsertRequest(parseJsonBytes(bytes)));
const fast = (bytes: Buffer): Outcome => outcome(() => readUpsertBody(bytes).request);

/** Typed arrays as their bits (so -0 and 0 differ), everything else as is. */
function comparable(result: Outcome): unknown {
  if (!('ok' in result)) return result;
  const bits = (a: Float32Array | Uint32Array | undefined) => (a === undefined ? undefined : Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));
  return {
    namespace: result.ok.namespace,
    vectors: result.ok.vectors.map((r) => ({
      id: r.id,
      values: bits(r.values),
      metadata: r.metadata,
      sparse: r.sparseValues === undefined ? undefined : { indices: Array.from(r.sparseValues.indices), values: bits(r.sparseValues.values) },
    })),
  };
}

function expectSame(text: string | Buffer): Outcome {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const expected = reference(bytes);
  const actual = fast(bytes);
  expect(comparable(actual)).toEqual(comparable(expected));
  return actual;
}

const f32bits = (x: number): number => new Uint32Array(new Float32Array([x]).buffer)[0]!;

/** Reads one `values` array through the fast path and checks every value against Math.fround(JSON.parse(text)). */
function expectValues(texts: string[]): void {
  const body = Buffer.from(`{"vectors":[{"id":"a","values":[${texts.join(',')}]}]}`);
  const read = readUpsertBody(body);
  expect(read.packed).toBeDefined();
  const values = read.request.vectors[0]!.values!;
  expect(values.length).toBe(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const want = Math.fround(JSON.parse(texts[i]!) as number);
    if (f32bits(values[i]!) !== f32bits(want)) throw new Error(`${texts[i]} read as ${values[i]}, JSON.parse + fround gives ${want}`);
  }
}

// Whether the engine's build compiled its binding (then the values must be read by it: CI builds it).
// The engine's entry point is dist/index.js (or src/index.ts), one level below its package's root.
const engineStatus = join(dirname(createRequire(import.meta.url).resolve('@conifer/engine')), '../native/build/status.json');
const bindingBuilt = existsSync(engineStatus) && (JSON.parse(readFileSync(engineStatus, 'utf8')) as { built: boolean }).built;

for (const reader of ['compiled binding', 'JavaScript reader'] as const) {
  describe(`readUpsertBody (values read by the ${reader})`, () => {
    beforeAll(() => {
      const native = useNativeValuesScan(reader === 'compiled binding');
      if (reader === 'compiled binding') expect(native).toBe(bindingBuilt);
    });
    afterAll(() => {
      useNativeValuesScan(true);
    });

    describe('readUpsertBody: numbers', () => {
      it('reads edge cases bit-identically to Math.fround(JSON.parse(...))', () => {
        expectValues([
          '0', '-0', '0.0', '-0.0', '0e0', '-0E-5', '0.000', '1', '-1', '10', '1.5', '-2.25', '0.1', '0.2', '0.3', '1e5', '1E5', '1e+5', '1.5E-3',
          '1e-45', '-1e-45', '1.401298464324817e-45', '7e-46', '7.006492321624086e-46', '7.006492321624087e-46', '1e-46', '1e-50', '1e-300', '1e-400',
          '1.1754942e-38', '1.17549435e-38', '3.4028234663852886e38', '3.4028235e38', '-3.4028235e+38', '3.40282356e38',
          '16777216', '16777217', '16777218', '16777219', '9007199254740993', '123456789012345678901234567890', '0.123456789012345678901234567890',
          '0.000000000000000000000000000000000000000000001', '100000000000000000000000000000000000000', '4.9406564584124654e-324',
          '0.10000000149011612', '0.30000001192092896', '1.0000000596046448', '1.00000005960464477539062500', '1.0000000596046447753906250001',
          '1.0000000596046447753906249999', '0.012345678838193417', '-0.9999999403953552', '2.5e-10', '123.456e-7', '1e22', '1e23', '1e38', '1e-22', '1e-23', '1e-44',
          '5e-324', '2.2250738585072014e-308', '17976931348623157e-292', '340282346638528859811704183484516925440', '0.00000000000000000000000000000000000000000000000001e50',
        ]);
      });

      it('reads random doubles in every printed form bit-identically (property, fixed seed)', () => {
        const random = rng(20261205);
        const scratch = new DataView(new ArrayBuffer(8));
        const texts: string[] = [];
        for (let n = 0; n < 40_000; n++) {
          let x: number;
          const kind = n % 4;
          if (kind === 0) {
            // Any double of float32 range (random bits, exponent limited).
            scratch.setUint32(0, Math.floor(random() * 2 ** 32));
            scratch.setUint32(4, Math.floor(random() * 2 ** 32));
            x = scratch.getFloat64(0);
            if (!Number.isFinite(x)) continue;
            const e = Math.floor(random() * 90) - 50;
            x = (x / 2 ** Math.floor(Math.log2(Math.abs(x) || 1))) * 2 ** (e * 1.5);
          } else if (kind === 1) {
            // Float32 values printed as doubles (what numpy float32 → JSON gives).
            x = Math.fround((random() - 0.5) * 2 ** (Math.floor(random() * 60) - 40));
          } else if (kind === 2) {
            // Midpoints between adjacent float32s (double rounding traps), and their neighbours.
            const f = Math.fround((random() - 0.5) * 2 ** (Math.floor(random() * 250) - 125));
            const bits = new Float32Array([f]);
            const u = new Uint32Array(bits.buffer);
            u[0] = u[0]! + 1;
            x = (f + bits[0]!) / 2;
            const nudge = Math.floor(random() * 3) - 1;
            x += nudge * Math.abs(x) * 2 ** -52;
          } else {
            // Short decimals (what rounded client data gives).
            x = Number((random() * 2 - 1).toFixed(1 + Math.floor(random() * 8)));
          }
          if (!Number.isFinite(x)) continue;
          texts.push(JSON.stringify(x));
          const p = 1 + Math.floor(random() * 21);
          texts.push(x.toPrecision(p).replace('+', ''));
          texts.push(x.toExponential(Math.floor(random() * 20)));
          // Exact-ish long forms: more digits than a double holds.
          texts.push(x.toPrecision(21) + String(Math.floor(random() * 1e6)).padStart(6, '0'));
        }
        const finite = texts.filter((t) => Number.isFinite(Math.fround(Number(t))) && /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/.test(t));
        expect(finite.length).toBeGreaterThan(100_000);
        for (let i = 0; i < finite.length; i += 1000) expectValues(finite.slice(i, i + 1000));
      });

      it('refuses what the reference refuses, with its error', () => {
        for (const v of ['01', '-01', '00', '-', '1.', '.5', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity', '-Infinity', '1.2.3', '--1', '1 2', '1,', '',
          '"1"', 'null', 'true', '[1]', '{}', '1e39', '-1e39', '3.4028235677973366e38', '1e309', '-1e400', '1e99999999999', '3.5e38', '1e44', '1e45']) {
          const result = expectSame(`{"vectors":[{"id":"a","values":[0.5,${v}]}]}`);
          expect('error' in result).toBe(true);
        }
      });
    });

    describe('readUpsertBody: bodies', () => {
      const valid = [
        '{"vectors":[{"id":"a","values":[1,2,3]}]}',
        ' \n\t{ "namespace" : "ns" , "vectors" : [ { "id" : "a" , "values" : [ 1 , 2.5 , -3e-2 ] , "metadata" : {"g":"x","n":[ "a" ]} } ] } \r\n',
        '{"vectors":[{"id":"a","values":[1,2]},{"id":"b","values":[]},{"id":"c"},{"id":"d","values":null,"sparse_values":{"indices":[3,1],"values":[0.5,0.25]}}]}',
        '{"vectors":[{"id":"a","values":[1,2],"values":[3,4]}]}',
        '{"vectors":[{"id":"a","values":[1,2],"values":null}]}',
        '{"vectors":[{"id":"a","values":null,"values":[5]}]}',
        '{"vectors":[{"id":"x","values":[1]}],"vectors":[{"id":"a","values":[9,8]}]}',
        '{"vectors":[{"id":"a","values":[1],"sparseValues":{"indices":[1],"values":[2]},"extra":{"deep":[[[{"x":null}]]],"t":true,"f":false}}],"other":[1,"2",{"3":4}]}',
        '{"vectors":[{"id":"a\\u00e9\\n\\"","values":[1],"metadata":{"k\\u0041":"v\\/"}}]}',
        '{"vectors":[{"id":"été 🌲","values":[1],"metadata":{"clé":"valeur ☃"}}],"namespace":"__default__"}',
        '{"vectors":[{"id":"a","values":[1],"__proto__":{"x":1},"metadata":{"__proto__":1}}]}',
        '{"vectors":[{"id":"a","\\u0076alues":[1,2]}]}',
        '{"vectors":[{"id":"a","values":[1],"id":"b"}],"namespace":"a","namespace":"b"}',
      ];
      it('gives the same request as the reference for valid bodies, and takes them on the fast path', () => {
        for (const text of valid) {
          const result = expectSame(text);
          if ('error' in result) continue;
          if (!text.includes('\\u0076')) expect(readUpsertBody(Buffer.from(text)).packed).toBeDefined();
        }
        const read = readUpsertBody(Buffer.from(valid[2]!));
        // One buffer for the whole body, cut to the values read.
        expect(read.packed!.length).toBe(2);
        expect(read.request.vectors[0]!.values!.buffer).toBe(read.packed!.buffer);
      });

      it('packs a body of dense values in place (a view of at most twice their bytes), and cuts a sparse one to size', () => {
        // 4-decimal values (the bench's bodies: ~7.5 bytes a number) fill the array the scan starts with: no growing,
        // no copy to cut it; a body that is mostly metadata gets an array of its values' size.
        const random = rng(5);
        const dense = JSON.stringify({
          vectors: Array.from({ length: 40 }, (_, i) => ({ id: `v${i}`, values: Array.from({ length: 768 }, () => Math.round((random() * 2 - 1) * 1e4) / 1e4) })),
        });
        const read = readUpsertBody(Buffer.from(dense));
        expect(read.packed!.length).toBe(40 * 768);
        // A view of the array the scan wrote (not a copy cut to size), and at most twice the values' bytes.
        expect(read.packed!.buffer.byteLength).toBeGreaterThan(read.packed!.byteLength);
        expect(read.packed!.buffer.byteLength).toBeLessThanOrEqual(2 * 4 * 40 * 768);
        expect(expectSame(dense)).toHaveProperty('ok');
        const sparse = JSON.stringify({ vectors: [{ id: 'a', values: [0.5, 1], metadata: { text: 'x'.repeat(5000) } }] });
        expect(readUpsertBody(Buffer.from(sparse)).packed!.buffer.byteLength).toBe(8);
      });

      it('gives the reference error for malformed and invalid bodies', () => {
        const invalid = [
          '', '   ', 'null', '[]', '"x"', '1', '{', '{}', '{"vectors":{}}', '{"vectors":[]}', '{"vectors":null}', '{"vectors":[1]}', '{"vectors":[null]}',
          '{"vectors":[{"values":[1]}]}', '{"vectors":[{"id":"","values":[1]}]}', '{"vectors":[{"id":1,"values":[1]}]}',
          '{"vectors":[{"id":"a","values":"1"}]}', '{"vectors":[{"id":"a","values":[1]}]} x', '{"vectors":[{"id":"a","values":[1]}]}{}',
          '{"vectors":[{"id":"a","values":[1]},]}', '{"vectors":[{"id":"a","values":[1],}]}', '{"vectors":[{"id":"a" "values":[1]}]}',
          '{"vectors":[{"id":"a","values":[1]}],"namespace":3}', '{"vectors":[{"id":"a","values":[1]}],"namespace":"bad\\u0001"}',
          '{"vectors":[{"id":"a\u0001","values":[1]}]}', '{"vectors":[{"id":"a\\x","values":[1]}]}', '{"vectors":[{"id":"a\\u12","values":[1]}]}',
          '{"vectors":[{"id":"a","values":[1],"metadata":{"$x":1}}]}', '{"vectors":[{"id":"a","values":[1],"metadata":[1]}]}',
          '{"vectors":[{"id":"a","values":[1],"sparse_values":{"indices":[1],"values":[1]},"sparseValues":{"indices":[2],"values":[1]}}]}',
          '{"vectors":[{"id":"a","values":[1],"x":tru}]}', '{"vectors":[{"id":"a","values":[1],"x":nul}]}', '{"vectors":[{"id":"a","values":[1],"x":[1,]}]}',
          '{"vectors":[{"id":"a","values":[1e400]},{"id":"","values":[1]}]}', '{"vectors":[{"id":"","values":[1e400]}]}',
          '\ufeff{"vectors":[{"id":"a","values":[1]}]}', '{"vectors":[{"id":"a","values":[1]}]}\u00a0',
          `{"vectors":[${Array.from({ length: 1001 }, (_, i) => `{"id":"${i}","values":[1]}`).join(',')}]}`,
          `{"vectors":[{"id":"a","values":[1],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`,
          `{"vectors":[{"id":"a","values":[1],"x":${'['.repeat(20_000)}}]}`,
        ];
        for (const text of invalid) expectSame(text);
        expectSame(Buffer.from([0x7b, 0x22, 0x76, 0xff, 0x22, 0x3a, 0x31, 0x7d]));
        const ok = expectSame(`{"vectors":[{"id":"a","values":[1],"x":${'['.repeat(20_000)}${']'.repeat(20_000)}}]}`);
        expect('ok' in ok).toBe(true);
      });

      it('agrees with the reference on random corruptions of valid bodies (property, fixed seed)', () => {
        const random = rng(12);
        const alphabet = Buffer.from('{}[]:,"\\ .-+eE0123456789abfnrtu\n\u00e9');
        let errors = 0;
        for (let n = 0; n < 4000; n++) {
          if ('error' in expectSame(corruptBytes(Buffer.from(valid[n % valid.length]!), random, alphabet))) errors++;
        }
        // Most corruptions are errors, some stay valid: both kinds are compared.
        expect(errors).toBeGreaterThan(1000);
        expect(errors).toBeLessThan(4000);
      });
    });
  });
}
