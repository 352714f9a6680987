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

/** The digits found by the last `shortestFast` (m · 10^k, m an integer of at most 9 digits). */
let foundM = 0;
let foundK = 0;

/**
 * The shortest p-digit candidate of a float32 magnitude `a` (1e-13 ≤ a < 1e13) that rounds back to it, or NaN;
 * leaves its digits in foundM / foundK.
 */
function shortestFast(a: number): number {
  let e = Math.floor(Math.log10(a));
  if (e >= 0 ? POW10[e]! > a : 1 / POW10[-e]! > a) e--;
  let lo = 1;
  let hi = 9;
  let best = Number.NaN;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = candidate(a, e, mid);
    if (Math.fround(c) === a) {
      best = c;
      foundK = e - mid + 1;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (!Number.isNaN(best)) foundM = foundK >= 0 ? Math.round(a / POW10[foundK]!) : Math.round(a * POW10[-foundK]!);
  return best;
}

/** The double whose JSON form is the shortest decimal that round-trips to the float32 `value`. */
export function float32ToShortest(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0 || (Number.isInteger(f) && Math.abs(f) <= 16_777_216)) return f;
  const a = Math.abs(f);
  if (a < 1e-13 || a >= 1e13) return shortestSlow(f);
  const best = shortestFast(a);
  if (Number.isNaN(best)) return shortestSlow(f);
  return f < 0 ? -best : best;
}

/** Bytes `writeFloat32Json` may write for one value (a sign, 9 digits, a point, "e-45"…: 15 at most; rounded up). */
export const FLOAT32_JSON_MAX_BYTES = 24;

/** Writes `text` (ASCII) at `pos`; returns the position after it. */
function writeAscii(out: Uint8Array, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
  return pos;
}

/** Writes the decimal digits of a non-negative integer below 2^53 at `pos`; returns the position after them. */
function writeInteger(out: Uint8Array, pos: number, n: number): number {
  let digits = 1;
  while (digits < 16 && n >= POW10[digits]!) digits++;
  for (let i = digits - 1; i >= 0; i--) {
    const q = Math.floor(n / 10);
    out[pos + i] = 0x30 + (n - q * 10);
    n = q;
  }
  return pos + digits;
}

/**
 * Writes the JSON text of `float32ToShortest(value)` (exactly what `String(float32ToShortest(value))` prints:
 * "0.4", "-1.25", "123", "0.000123", "1e-7"; "null" for a non-finite value, as JSON.stringify) into `out` at
 * `pos`, which must have FLOAT32_JSON_MAX_BYTES free, and returns the position after it. The digits come
 * straight from the shortest-decimal search, with no string in between, for magnitudes 1e-6 … 1e13 (every
 * realistic vector component and score); others go through String().
 */
export function writeFloat32Json(out: Uint8Array, pos: number, value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f)) return writeAscii(out, pos, 'null');
  if (f === 0) {
    out[pos] = 0x30;
    return pos + 1;
  }
  if (f < 0) out[pos++] = 0x2d;
  const a = Math.abs(f);
  if (Number.isInteger(a) && a <= 16_777_216) return writeInteger(out, pos, a);
  if (a < 1e-6 || a >= 1e13 || Number.isNaN(shortestFast(a))) return writeAscii(out, pos, String(float32ToShortest(a)));
  let m = foundM;
  let k = foundK;
  while (m % 10 === 0) {
    m /= 10;
    k++;
  }
  if (k >= 0) {
    // An integer (beyond 2^24): its digits, then k zeros.
    pos = writeInteger(out, pos, m);
    for (let i = 0; i < k; i++) out[pos++] = 0x30;
    return pos;
  }
  let digits = 1;
  while (m >= POW10[digits]!) digits++;
  // value = 0.d1…dn × 10^point
  const point = digits + k;
  if (point > 0) {
    // d…d.d…d: the digits written at their final places around the point.
    const end = pos + digits + 1;
    let i = end - 1;
    for (let j = digits - 1; j >= 0; j--) {
      if (j === point - 1) out[i--] = 0x2e;
      const q = Math.floor(m / 10);
      out[i--] = 0x30 + (m - q * 10);
      m = q;
    }
    return end;
  }
  // 0.0…0d…d (point ≤ 0; a ≥ 1e-6 keeps it above -6, where JavaScript switches to the exponent form)
  out[pos++] = 0x30;
  out[pos++] = 0x2e;
  for (let i = 0; i < -point; i++) out[pos++] = 0x30;
  return writeInteger(out, pos, m);
}

/** Plain array of shortest decimals for a float32 array (for JSON responses). */
export function float32ArrayToJson(values: ArrayLike<number>): number[] {
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToShortest(values[i]!);
  return out;
}
