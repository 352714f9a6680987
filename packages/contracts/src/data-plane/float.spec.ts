import { describe, expect, it } from '@jest/globals';
import { float32ArrayToJson, float32ToShortest } from './float.js';

describe('float32ToShortest', () => {
  it('prints the decimal that was written', () => {
    for (const v of [0.4, 0.1, -0.3, 1e-7, 123.456, 3.4e38, 0, 1, -2, 0.5]) {
      expect(JSON.stringify(float32ToShortest(Math.fround(v)))).toBe(JSON.stringify(v));
    }
  });

  it('round-trips every float32 and is never longer than 9 significant digits', () => {
    const buf = new Float32Array(1);
    const u32 = new Uint32Array(buf.buffer);
    for (let i = 0; i < 20000; i++) {
      u32[0] = (Math.random() * 0xffffffff) >>> 0;
      const f = buf[0]!;
      if (!Number.isFinite(f)) continue;
      const printed = float32ToShortest(f);
      expect(Math.fround(printed)).toBe(f);
      expect(printed.toExponential().split('e')[0]!.replace(/[-.]/g, '').length).toBeLessThanOrEqual(9);
    }
    expect(float32ArrayToJson(new Float32Array([0.4, 0.2]))).toEqual([0.4, 0.2]);
  });
});
