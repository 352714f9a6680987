// Float32 values are stored as float32 and printed as the shortest decimal that rounds back to the same
// float32 (0.4, not 0.4000000059604645). The returned double's own shortest form (what JSON.stringify
// prints) is that decimal, because any shorter decimal naming the same double would name the same float32.
//
// Fast path (no strings): for p significant digits, m = round(|f| / 10^k) with k = e − p + 1, and the
// candidate m·10^k (or m / 10^−k) is one correctly rounded operation on exact operands (|k| ≤ 22), i.e.
// the double nearest to the decimal m·10^k. The smallest p whose candidate rounds back to f is found by
// binary search. Outside 1e-15..1e15 the string form (toPrecision) is used.

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

function shortestSlow(f: number): number {
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

function candidate(a: number, e: number, p: number): number {
  const k = e - p + 1;
  if (k >= 0) return Math.round(a / POW10[k]!) * POW10[k]!;
  return Math.round(a * POW10[-k]!) / POW10[-k]!;
}

/** The double whose JSON form is the shortest decimal that round-trips to the float32 `value`. */
export function float32ToShortest(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0 || (Number.isInteger(f) && Math.abs(f) <= 16_777_216)) return f;
  const a = Math.abs(f);
  if (a < 1e-13 || a >= 1e13) return shortestSlow(f);
  let e = Math.floor(Math.log10(a));
  if (e >= 0 ? POW10[e]! > a : 1 / POW10[-e]! > a) e--;
  const target = a;
  let lo = 1;
  let hi = 9;
  let best = Number.NaN;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = candidate(a, e, mid);
    if (Math.fround(c) === target) {
      best = c;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (Number.isNaN(best)) return shortestSlow(f);
  return f < 0 ? -best : best;
}

/** Plain array of shortest decimals for a float32 array (for JSON responses). */
export function float32ArrayToJson(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToShortest(values[i]!);
  return out;
}
