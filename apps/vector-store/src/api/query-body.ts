// The query body reader of the store's hot path (issue 13): the `vector` of a query (768 numbers and more) is
// scanned from the bytes straight into a Float32Array by the upsert reader's scanner (upsert-body.ts), instead
// of decoding the body to a string, building a JS array of doubles with JSON.parse and copying it into float32.
// The other members (namespace, topK, filter, sparse vector, flags…) are small: cut out as byte ranges and given
// to JSON.parse (a plain string without escapes is taken as it is), and the result is validated by the one
// contracts parser (parseQueryRequest), so the rules cannot drift.
//
// Equivalence with `parseQueryRequest(parseJsonBytes(bytes))` is the contract: on success the same request
// (the vector bit-identical to `Math.fround(JSON.parse(text))`), and for anything the scanner does not take
// whole (invalid JSON or UTF-8, a number that is not a finite float32, an escaped key, `__proto__`, a body
// that is not an object) the body goes to that reference path, which gives the usual answer: a 400 in
// Pinecone's shape, or the same result. The fast path never words an error of its own.
import { isUtf8 } from 'node:buffer';
import { parseJsonBytes, parseQueryRequest, type QueryRequest } from '@conifer/contracts';
import { FALLBACK, Scanner } from './upsert-body.js';

export interface ReadQuery {
  request: QueryRequest;
  /** The body as JSON.parse would give it, but for `vector` (what the namespace is echoed from). */
  body: unknown;
}

/** What the contracts parser sees as the vector: an empty one, or one element (the scanned vector replaces it). */
const NO_VALUES: readonly number[] = Object.freeze([]);
const SOME_VALUES: readonly number[] = Object.freeze([0]);
/** Reused for every query's scan (the request gets an exact copy): one off-heap allocation per query, not two. */
const scratch = new Float32Array(4096);

/** Parses and validates a query body: the same result or the same error as `parseQueryRequest(parseJsonBytes(bytes))`. */
export function readQueryBody(bytes: Uint8Array | undefined): ReadQuery {
  if (bytes !== undefined && bytes.length > 0) {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (isUtf8(buf)) {
      const fast = scanQuery(buf);
      if (fast !== undefined) return fast;
    }
  }
  const body = parseJsonBytes(bytes);
  return { request: parseQueryRequest(body), body };
}

/** The fast path: undefined when the body is not taken (then the reference path decides). */
function scanQuery(buf: Buffer): ReadQuery | undefined {
  const scanner = new Scanner(buf, scratch);
  const body: Record<string, unknown> = {};
  let vectorAt = -1;
  let vectorLength = 0;
  try {
    const taken = scanner.object(scanner.ws(0), (key, at) => {
      if (key === 'vector' && buf[at] === 0x5b) {
        const offset = scanner.used;
        const end = scanner.values(at);
        if (end === FALLBACK) return FALLBACK;
        // A repeated key: the last one counts, as with JSON.parse.
        vectorAt = offset;
        vectorLength = scanner.used - offset;
        body.vector = vectorLength === 0 ? NO_VALUES : SOME_VALUES;
        return end;
      }
      // JSON.parse makes "__proto__" an own property; an assignment here would not: the reference path reads it.
      if (key === '__proto__') return FALLBACK;
      const end = scanner.skipValue(at);
      if (end === FALLBACK) return FALLBACK;
      if (key === 'vector') vectorAt = -1;
      body[key] = buf[at] === 0x22 && scanner.plainString ? buf.toString('utf8', at + 1, end - 1) : JSON.parse(buf.toString('utf8', at, end));
      return end;
    });
    if (!taken || scanner.ws(scanner.pos) !== buf.length) return undefined;
  } catch {
    // Deep nesting (stack) or anything unforeseen: the reference path answers.
    return undefined;
  }
  const request = parseQueryRequest(body);
  if (request.vector !== undefined && vectorAt >= 0) {
    const packed = scanner.finish();
    request.vector = vectorAt === 0 && vectorLength === packed.length ? packed : packed.slice(vectorAt, vectorAt + vectorLength);
  }
  return { request, body };
}
