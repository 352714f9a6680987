// Float32 values are stored as float32 and printed as the shortest decimal that rounds back to the same
// float32 (0.4, not 0.4000000059604645). The returned double's own shortest form (what JSON.stringify
// prints) is that decimal, because any shorter decimal naming the same double would name the same float32.

/** The double whose JSON form is the shortest decimal that round-trips to the float32 `value`. */
export function float32ToShortest(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0 || (Number.isInteger(f) && Math.abs(f) <= 16_777_216)) return f;
  // Precision that round-trips is monotone in the number of digits: binary search 1..9.
  let lo = 1;
  let hi = 9;
  let best = Number(f.toPrecision(9));
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = Number(f.toPrecision(mid));
    if (Math.fround(candidate) === f) {
      best = candidate;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}

/** Plain array of shortest decimals for a float32 array (for JSON responses). */
export function float32ArrayToJson(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToShortest(values[i]!);
  return out;
}
