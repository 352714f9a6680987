import { describe, expect, it } from '@jest/globals';
import { float32ArrayToJson, float32ToShortest, FLOAT32_JSON_MAX_BYTES, writeFloat32Json } from './float.js';

describe('float32ToShortest', () => {
  it('prints the decimal that was written', () => {
    for (const v of [0.4, 0.1, -0.3, 1e-7, 123.456, 3.4e38, 0, 1, -2, 0.5, 0.0001, 9.999, 1e-20, 65504.5, -0.125, 1234567.9]) {
      expect(JSON.stringify(float32ToShortest(Math.fround(v)))).toBe(JSON.stringify(v));
    }
  });

  it('round-trips every float32 and is never longer than 9 significant digits', () => {
    const buf = new Float32Array(1);
    const u32 = new Uint32Array(buf.buffer);
    for (let i = 0; i < 200000; i++) {
      u32[0] = (Math.random() * 0xffffffff) >>> 0;
      const f = buf[0]!;
      if (!Number.isFinite(f)) continue;
      const printed = float32ToShortest(f);
      if (Math.fround(printed) !== f) throw new Error(`${f} printed as ${printed}`);
      // As short as the reference (toPrecision) search finds.
      let p = 1;
      while (Math.fround(Number(f.toPrecision(p))) !== f) p++;
      if (String(printed) !== String(Number(f.toPrecision(p)))) throw new Error(`${f}: ${printed} vs ${Number(f.toPrecision(p))}`);
    }
    expect(float32ArrayToJson(new Float32Array([0.4, 0.2]))).toEqual([0.4, 0.2]);
  });
});

describe('writeFloat32Json', () => {
  const out = new Uint8Array(64);
  const printed = (value: number, at = 3): string => {
    out.fill(0x78, at - 1, at + FLOAT32_JSON_MAX_BYTES + 1);
    const end = writeFloat32Json(out, at, value);
    // Within its bound, and nothing written outside [at, end).
    if (end - at > FLOAT32_JSON_MAX_BYTES || out[at - 1] !== 0x78 || out[end] !== 0x78) throw new Error(`${value}: wrote outside its bytes`);
    return Buffer.from(out.subarray(at, end)).toString('latin1');
  };

  it('prints what JSON.stringify prints for float32ToShortest, in every form JavaScript uses', () => {
    const cases = [0.4, -0.3, 1e-7, 9.99e-7, 1e-6, 1.5e-6, 0.000123, 123.456, 3.4e38, -3.4e38, 0, -0, 1, -2, 16_777_216, 16_777_218, 1e13, 9.99e12, 123456790000, 0.5, 1e-45, -1.4e-45, 1e21, 1e22, 65504.5, 1234567.9, 0.1, 100.5];
    for (const v of cases) expect(printed(v)).toBe(JSON.stringify(float32ToShortest(v)));
    expect(printed(Number.NaN)).toBe('null');
    expect(printed(Number.POSITIVE_INFINITY)).toBe('null');
    expect(printed(3.5e38)).toBe('null');
  });

  it('matches String(float32ToShortest(f)) on random float32 bit patterns and random decimals', () => {
    const buf = new Float32Array(1);
    const u32 = new Uint32Array(buf.buffer);
    for (let i = 0; i < 100_000; i++) {
      u32[0] = (Math.random() * 0xffffffff) >>> 0;
      const f = buf[0]!;
      const want = Number.isFinite(f) ? String(float32ToShortest(f)) : 'null';
      const got = printed(f, 1 + (i % 7));
      if (got !== want) throw new Error(`bits ${u32[0]}: ${got} vs ${want}`);
    }
    for (let i = 0; i < 100_000; i++) {
      // Vector-like values: a few decimals, every scale from 1e-8 to 1e8.
      const f = Math.fround(Number(((Math.random() - 0.5) * 10 ** Math.floor(Math.random() * 16 - 8)).toPrecision(1 + (i % 9))));
      const got = printed(f);
      if (got !== String(float32ToShortest(f))) throw new Error(`${f}: ${got} vs ${String(float32ToShortest(f))}`);
    }
  });
});
