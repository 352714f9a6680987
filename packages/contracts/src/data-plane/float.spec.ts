import { describe, expect, it } from '@jest/globals';
import { float32ArrayToJson, float32ToShortest } from './float.js';

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
