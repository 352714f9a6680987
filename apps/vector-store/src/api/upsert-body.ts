// The upsert body reader of the store's hot path (issue 12 part 4): it scans the bytes once and reads every
// `vectors[i].values` array straight into one packed Float32Array, instead of decoding the whole body to a
// string, building a JS array of doubles per record with JSON.parse and copying it into float32 (which cost
// ~50 ms per 1000 × 768 body and left hundreds of MB of garbage behind an ingest). The small parts of a record
// (id, metadata, sparse values) and the namespace are cut out as byte ranges and given to JSON.parse, and the
// result is validated by the one contracts parser (parseUpsertRequest), so the rules cannot drift.
//
// Equivalence with `parseUpsertRequest(parseJsonBytes(bytes))` is the contract: on success the same request
// (every value bit-identical to `Math.fround(JSON.parse(text))`), and for anything the scanner does not take
// whole — invalid JSON, a value that is not a finite float32 number, an escaped key, a body that is not an
// object, nesting it gives up on — it hands the body to that reference path, which produces the usual answer
// (a 400 in Pinecone's shape, or the same result). So the fast path never needs error messages of its own.
import { isUtf8 } from 'node:buffer';
import { parseJsonBytes, parseUpsertRequest, type UpsertRequest } from '@conifer/contracts';
import { jsonFloat32ArrayScan, type JsonFloat32ArrayScan } from '@conifer/engine';

/** Signals "not taken by the fast path" (never escapes this module). */
export const FALLBACK = -1;

/** Where a record's scanned values sit in the packed array (kept on the record object under a symbol). */
const VALUES_AT = Symbol('valuesAt');
// ArrayBuffer.prototype.transfer (ES2024; the repo's lib is ES2023): moves or reallocates without a copy where it can.
type Resizable = ArrayBuffer & { transfer(length: number): ArrayBuffer };
type ScannedRecord = Record<string, unknown> & { [VALUES_AT]?: { offset: number; length: number } };

// Exact powers of ten as doubles (10^0 … 10^22 are exactly representable).
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
// Relative distance from a float32 rounding boundary under which the approximate path defers to Number():
// far above its own error (≤ ~2^-49 relative: ≤ 4 roundings of the 19-digit mantissa, 2 of the scaling and
// the dropped digits' < 10^-18), far below the float32 spacing (2^-24 relative).
const TOLERANCE = 2 ** -44;

// The compiled binding's scan of a values array (~22 ns a number against ~30–50 here, bench/RESULTS.md session 20;
// this module's own reader remains for what it leaves: see JsonFloat32ArrayScan); undefined where the binding was
// not built.
let nativeValuesScan: JsonFloat32ArrayScan | undefined = jsonFloat32ArrayScan();

/**
 * Whether values arrays are read by the compiled binding (`on`, where it is there) or by this module's reader only:
 * the specs check both against the reference, the bench compares them. Returns whether the binding now reads them.
 */
export function useNativeValuesScan(on: boolean): boolean {
  nativeValuesScan = on ? jsonFloat32ArrayScan() : undefined;
  return nativeValuesScan !== undefined;
}

/** The bytes the fast path scans a body of `bodyLength` bytes' values into: one float32 per 4 bytes of body. */
export function valuesRoom(bodyLength: number): number {
  return Math.max(64, Math.ceil(bodyLength / 4)) * 4;
}

/** An upsert body read by the fast path or the reference path; `packed` holds every record's values when set. */
export interface ReadUpsert {
  request: UpsertRequest;
  /** The buffer every `request.vectors[i].values` views (fast path), else undefined. */
  packed?: Float32Array;
}

/**
 * Parses and validates an upsert body: the same result or the same error as
 * `parseUpsertRequest(parseJsonBytes(bytes))`, with the values read from the bytes.
 */
export function readUpsertBody(bytes: Uint8Array | undefined, into?: ArrayBuffer): ReadUpsert {
  if (bytes !== undefined && bytes.length > 0) {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (isUtf8(buf)) {
      const fast = scanUpsert(buf, into);
      if (fast !== undefined) return fast;
    }
  }
  return { request: parseUpsertRequest(parseJsonBytes(bytes)) };
}

/**
 * The fast path: undefined when the body is not taken (then the reference path decides). `into`: see
 * valuesRoom(); the values are scanned into it when it is large enough.
 */
function scanUpsert(buf: Buffer, into?: ArrayBuffer): ReadUpsert | undefined {
  const scanner = new Scanner(buf, undefined, into);
  let body: Record<string, unknown> | undefined;
  try {
    body = scanner.body();
  } catch {
    // Deep nesting (stack) or anything unforeseen: the reference path answers.
    return undefined;
  }
  if (body === undefined) return undefined;
  const packed = scanner.finish();
  const request = parseUpsertRequest(body);
  const records = body.vectors as ScannedRecord[];
  for (let i = 0; i < records.length; i++) {
    const at = records[i]![VALUES_AT];
    if (at !== undefined) request.vectors[i]!.values = packed.subarray(at.offset, at.offset + at.length);
  }
  return { request, packed };
}

/**
 * Numbers: a finite float32 at `value`, or the scan stops (the reference path reports the problem). Also
 * reads query bodies (query-body.ts).
 */
export class Scanner {
  private readonly b: Buffer;
  private readonly dv: DataView;
  private readonly end: number;
  /** The index after what the last object(), records() or key() read. */
  pos = 0;
  private out: Float32Array;
  /** `out` is the caller's scratch array: never transferred, copied out by finish(). */
  private borrowed: boolean;
  /** Values appended so far. */
  used = 0;
  /** The placeholder the contracts parser sees as a record's values (an empty array is always valid). */
  private static readonly EMPTY: readonly number[] = Object.freeze([]);

  /** `out` is over an `into` buffer: finish() returns a view of it whatever its fill. */
  private readonly reused: boolean;

  /**
   * `scratch`: an array to scan into (a caller's reusable one: a large typed array costs an off-heap allocation,
   * which at a query's size costs as much as scanning it); finish() then copies the values out. `into`: a
   * buffer the values are scanned into and given back with (finish() returns a view of it, however full), if
   * it has valuesRoom(b.length) bytes: the parse worker's recycled buffers (parse-worker.ts).
   */
  constructor(b: Buffer, scratch?: Float32Array, into?: ArrayBuffer) {
    this.b = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.end = b.length;
    this.borrowed = scratch !== undefined;
    this.reused = scratch === undefined && into !== undefined && into.byteLength >= valuesRoom(b.length);
    // Room for one number per 4 bytes of body: bodies of real vectors take 7–22 bytes per number (4 decimals:
    // ~7.5), so the array never grows for them. It used to start at one per 8 bytes, and a 768-d body with 4
    // decimals then grew once (a copy) and was cut to size in finish() (another): in the store those copies
    // went to fresh allocations whose pages the kernel faulted in, 40 % of the parse worker's CPU (RESULTS.md).
    this.out = scratch ?? (this.reused ? new Float32Array(into!) : new Float32Array(valuesRoom(b.length) / 4));
  }

  /**
   * The packed values. Unless they fill less than half of the array, a view of it: its unused tail is never
   * touched (no pages behind it) and cutting it off would copy the values. Always a view of an `into` buffer.
   */
  finish(): Float32Array {
    if (this.borrowed) return this.out.slice(0, this.used);
    if (this.reused || this.used * 2 >= this.out.length) return this.out.subarray(0, this.used);
    const buffer = (this.out.buffer as Resizable).transfer(this.used * 4);
    return new Float32Array(buffer, 0, this.used);
  }

  /** The index of the first non-whitespace byte from i. */
  ws(i: number): number {
    const b = this.b;
    let c = b[i];
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
    return i;
  }

  /** The top-level object with `vectors` (records scanned) and `namespace`; other keys are checked and dropped. */
  body(): Record<string, unknown> | undefined {
    const b = this.b;
    const body: Record<string, unknown> = {};
    const taken = this.object(this.ws(0), (key, at) => {
      if (key === 'vectors' && b[at] === 0x5b) {
        const records = this.records(at);
        if (records === undefined) return FALLBACK;
        body.vectors = records;
        return this.pos;
      }
      if (key === 'vectors' || key === 'namespace') {
        const end = this.skipValue(at);
        if (end !== FALLBACK) body[key] = JSON.parse(b.toString('utf8', at, end));
        return end;
      }
      return this.skipValue(at);
    });
    if (!taken || this.ws(this.pos) !== this.end) return undefined;
    // A body without an array of records is an error case: the reference path words it.
    if (!Array.isArray(body.vectors)) return undefined;
    return body;
  }

  /**
   * An object from `{` at i: `member(key, at)` reads each member's value starting at `at` and returns the
   * index after it (or FALLBACK). Sets pos after `}`; false when the fast path does not take the object.
   */
  object(i: number, member: (key: string, at: number) => number): boolean {
    const b = this.b;
    if (b[i] !== 0x7b) return false;
    i = this.ws(i + 1);
    if (b[i] === 0x7d) {
      this.pos = i + 1;
      return true;
    }
    for (;;) {
      const key = this.key(i);
      if (key === undefined) return false;
      i = this.ws(this.pos);
      if (b[i] !== 0x3a) return false;
      i = member(key, this.ws(i + 1));
      if (i === FALLBACK) return false;
      i = this.ws(i);
      if (b[i] === 0x2c) i = this.ws(i + 1);
      else if (b[i] === 0x7d) {
        this.pos = i + 1;
        return true;
      } else return false;
    }
  }

  /** `[record, …]` from `[` at i; sets pos after `]`. */
  private records(i: number): ScannedRecord[] | undefined {
    const b = this.b;
    const records: ScannedRecord[] = [];
    i = this.ws(i + 1);
    if (b[i] === 0x5d) {
      this.pos = i + 1;
      return records;
    }
    for (;;) {
      const record = this.record(i);
      if (record === undefined) return undefined;
      records.push(record);
      i = this.ws(this.pos);
      if (b[i] === 0x2c) i = this.ws(i + 1);
      else if (b[i] === 0x5d) {
        this.pos = i + 1;
        return records;
      } else return undefined;
    }
  }

  /** One record object from `{` at i: values scanned, id/metadata/sparse values parsed, other keys checked. */
  private record(i: number): ScannedRecord | undefined {
    const b = this.b;
    const record: ScannedRecord = {};
    const taken = this.object(i, (key, at) => {
      if (key === 'values' && b[at] === 0x5b) {
        const offset = this.used;
        const end = this.values(at);
        if (end === FALLBACK) return FALLBACK;
        // A repeated key: the last one counts, as with JSON.parse.
        record.values = Scanner.EMPTY;
        record[VALUES_AT] = { offset, length: this.used - offset };
        return end;
      }
      if (key === 'values' || key === 'id' || key === 'metadata' || key === 'sparseValues' || key === 'sparse_values') {
        const end = this.skipValue(at);
        if (end === FALLBACK) return FALLBACK;
        // Strings without escapes are the common id: no JSON.parse for them.
        record[key] = b[at] === 0x22 && this.plainString ? b.toString('utf8', at + 1, end - 1) : JSON.parse(b.toString('utf8', at, end));
        if (key === 'values') delete record[VALUES_AT];
        return end;
      }
      return this.skipValue(at);
    });
    return taken ? record : undefined;
  }

  /** Set by skipString: the last string had no escape. */
  plainString = false;

  /** An object key at i (a string without escapes: others are left to the reference path); sets pos after it. */
  private key(i: number): string | undefined {
    if (this.b[i] !== 0x22) return undefined;
    const end = this.skipString(i);
    if (end === FALLBACK || !this.plainString) return undefined;
    this.pos = end;
    return this.b.toString('utf8', i + 1, end - 1);
  }

  /** A `values` array from `[` at i, appended to the packed values; the index after `]`, or FALLBACK. */
  values(i: number): number {
    const b = this.b;
    if (nativeValuesScan !== undefined) {
      const read = nativeValuesScan(b, i, this.out, this.used);
      if (read >= 0) {
        this.used += Math.floor(read / 2 ** 32);
        return read % 2 ** 32;
      }
      // Not taken (no room, a number it leaves here, or an error): this reader goes over the array again and
      // grows the array or decides.
    }
    i = this.ws(i + 1);
    if (b[i] === 0x5d) return i + 1;
    for (;;) {
      i = this.number(i);
      if (i === FALLBACK) return FALLBACK;
      let c = b[i];
      while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
      if (c === 0x2c) {
        c = b[++i];
        while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = b[++i];
      } else if (c === 0x5d) return i + 1;
      else return FALLBACK;
    }
  }

  /**
   * A JSON number at i appended as float32 (bit-identical to Math.fround of JSON.parse's double): the index
   * after it, or FALLBACK for bad syntax or a value that is not a finite float32 (the reference path words it).
   *
   * Up to 19 significant digits are accumulated in a double m (exact up to 15), further digits only move the
   * decimal exponent k. With ≤ 15 digits and |k| ≤ 22, m·10^k is one correctly rounded operation on exact
   * operands, i.e. JSON.parse's double (Clinger's fast path). Otherwise, for |k| ≤ 44, the approximation x is
   * within 2^-49 (relative) of that double, and its float32 is taken when x ± TOLERANCE round to the same float32
   * (rounding is monotonic, so the exact double lies between and rounds there too); near a float32 rounding
   * boundary, or for larger exponents, Number() of the text gives the exact double.
   */
  private number(i: number): number {
    const b = this.b;
    const start = i;
    let c = b[i]!;
    let negative = false;
    if (c === 0x2d) {
      negative = true;
      c = b[++i]!;
    }
    let m = 0;
    let digits = 0;
    let k = 0;
    if (c === 0x30) {
      c = b[++i]!;
      // A leading zero followed by a digit is not JSON.
      if (c >= 0x30 && c <= 0x39) return FALLBACK;
    } else if (c >= 0x31 && c <= 0x39) {
      do {
        if (digits < 19) {
          m = m * 10 + (c - 0x30);
          digits++;
        } else k++;
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
    } else return FALLBACK;
    if (c === 0x2e) {
      c = b[++i]!;
      if (!(c >= 0x30 && c <= 0x39)) return FALLBACK;
      if (m === 0) {
        while (c === 0x30) {
          k--;
          c = b[++i]!;
        }
      }
      // Four digits at a time while they fit in the 19 kept (SWAR on a little-endian 32-bit load).
      const dv = this.dv;
      while (digits <= 15 && i + 4 <= this.end) {
        const v = dv.getUint32(i, true);
        if (((v & 0xf0f0f0f0) | (((v + 0x06060606) & 0xf0f0f0f0) >>> 4)) !== 0x33333333) break;
        let x = v & 0x0f0f0f0f;
        x = (Math.imul(x, 10) + (x >>> 8)) & 0x00ff00ff;
        x = (Math.imul(x, 100) + (x >>> 16)) & 0xffff;
        m = m * 10000 + x;
        digits += 4;
        k -= 4;
        i += 4;
        c = b[i]!;
      }
      while (c >= 0x30 && c <= 0x39) {
        if (digits < 19) {
          if (m !== 0 || c !== 0x30) {
            m = m * 10 + (c - 0x30);
            digits++;
          }
          k--;
        }
        c = b[++i]!;
      }
    }
    if (c === 0x65 || c === 0x45) {
      c = b[++i]!;
      let expNegative = false;
      if (c === 0x2d) {
        expNegative = true;
        c = b[++i]!;
      } else if (c === 0x2b) c = b[++i]!;
      if (!(c >= 0x30 && c <= 0x39)) return FALLBACK;
      let e = 0;
      do {
        if (e < 100_000) e = e * 10 + (c - 0x30);
        c = b[++i]!;
      } while (c >= 0x30 && c <= 0x39);
      k += expNegative ? -e : e;
    }
    let f: number;
    if (m === 0) {
      f = negative ? -0 : 0;
    } else if (digits <= 15 && k >= -22 && k <= 22) {
      const x = k >= 0 ? m * POW10[k]! : m / POW10[-k]!;
      f = Math.fround(negative ? -x : x);
    } else {
      let x = Number.NaN;
      if (k >= -44 && k <= 44) {
        if (k > 22) x = m * POW10[22]! * POW10[k - 22]!;
        else if (k >= 0) x = m * POW10[k]!;
        else if (k >= -22) x = m / POW10[-k]!;
        else x = m / POW10[22]! / POW10[-k - 22]!;
        const d = x * TOLERANCE;
        f = Math.fround(x);
        if (Math.fround(x - d) !== f || Math.fround(x + d) !== f) x = Number.NaN;
        else if (negative) f = -f;
      }
      if (Number.isNaN(x)) {
        // Exact: the text is valid JSON number syntax, which Number() reads as JSON.parse does.
        f = Math.fround(Number(b.toString('latin1', start, i)));
      }
    }
    if (!Number.isFinite(f!)) return FALLBACK;
    if (this.used === this.out.length) this.grow();
    this.out[this.used++] = f!;
    return i;
  }

  private grow(): void {
    if (this.borrowed) {
      const grown = new Float32Array(this.out.length * 2);
      grown.set(this.out);
      this.out = grown;
      this.borrowed = false;
      return;
    }
    const buffer = (this.out.buffer as Resizable).transfer(this.out.byteLength * 2);
    this.out = new Float32Array(buffer);
  }

  /** A string from `"` at i: the index after the closing quote, or FALLBACK; sets plainString. */
  private skipString(i: number): number {
    const b = this.b;
    const end = this.end;
    let plain = true;
    i++;
    while (i < end) {
      const c = b[i]!;
      if (c === 0x22) {
        this.plainString = plain;
        return i + 1;
      }
      if (c < 0x20) return FALLBACK;
      if (c === 0x5c) {
        plain = false;
        const e = b[i + 1];
        if (e === 0x75) {
          for (let h = i + 2; h < i + 6; h++) {
            const x = b[h];
            if (x === undefined || !((x >= 0x30 && x <= 0x39) || (x >= 0x41 && x <= 0x46) || (x >= 0x61 && x <= 0x66))) return FALLBACK;
          }
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
        } else return FALLBACK;
      } else i++;
    }
    return FALLBACK;
  }

  /** Any JSON value at i, checked strictly: the index after it, or FALLBACK. */
  skipValue(i: number): number {
    const b = this.b;
    const c = b[i];
    if (c === 0x22) return this.skipString(i);
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      i = this.ws(i + 1);
      if (b[i] === close) return i + 1;
      for (;;) {
        if (c === 0x7b) {
          if (b[i] !== 0x22) return FALLBACK;
          i = this.skipString(i);
          if (i === FALLBACK) return FALLBACK;
          i = this.ws(i);
          if (b[i] !== 0x3a) return FALLBACK;
          i = this.ws(i + 1);
        }
        i = this.skipValue(i);
        if (i === FALLBACK) return FALLBACK;
        i = this.ws(i);
        if (b[i] === 0x2c) i = this.ws(i + 1);
        else if (b[i] === close) return i + 1;
        else return FALLBACK;
      }
    }
    if (c === 0x74) return this.literal(i, 'true');
    if (c === 0x66) return this.literal(i, 'false');
    if (c === 0x6e) return this.literal(i, 'null');
    if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) return this.skipNumber(i);
    return FALLBACK;
  }

  private literal(i: number, word: string): number {
    for (let j = 0; j < word.length; j++) if (this.b[i + j] !== word.charCodeAt(j)) return FALLBACK;
    return i + word.length;
  }

  /** JSON number syntax only (the value is JSON.parse's business). */
  private skipNumber(i: number): number {
    const b = this.b;
    const digit = (x: number | undefined): boolean => x !== undefined && x >= 0x30 && x <= 0x39;
    if (b[i] === 0x2d) i++;
    if (b[i] === 0x30) {
      i++;
      if (digit(b[i])) return FALLBACK;
    } else if (digit(b[i]) && b[i] !== 0x30) {
      while (digit(b[i])) i++;
    } else return FALLBACK;
    if (b[i] === 0x2e) {
      i++;
      if (!digit(b[i])) return FALLBACK;
      while (digit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === 0x2d) i++;
      if (!digit(b[i])) return FALLBACK;
      while (digit(b[i])) i++;
    }
    return i;
  }
}
