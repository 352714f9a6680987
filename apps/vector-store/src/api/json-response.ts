// Response rendering for the routes that return records (query, fetch, fetch_by_metadata): the answer is
// written straight into one growing output buffer — ids, scores and values printed as they come, metadata as
// its JSON — and sent as that buffer with its length: no intermediate JSON string of the whole answer, no
// second copy, and a hard cap on the size. A query's answer is printed from the engine's result itself
// (renderQueryResult): scores and float32 values go through the shortest-decimal float32 printer straight into
// the buffer (writeFloat32Json), with no wire object, number array or string per value in between; its bytes
// are those of JSON.stringify(renderQuery(…)) (render.ts, the reference shape; json-response.spec.ts). An answer that
// would pass the cap is refused with 400 as Pinecone does for queries ("choose a lower top_k, or exclude
// values or metadata"), before it can exhaust memory or, at large dimensions, V8's string limit.
import {
  FLOAT32_JSON_MAX_BYTES,
  InvalidArgumentError,
  writeFloat32Json,
  type QueryRequest,
  type FetchByMetadataResponse,
  type FetchResponse,
  type PineconeRecord,
  type QueryResponse,
  type ScoredPineconeRecord,
} from '@conifer/contracts';
import type { QueryResult } from '@conifer/engine';

/** Pinecone's query result size limit. */
const MAX_QUERY_RESPONSE_BYTES = 4 * 1024 * 1024;
/** Fetch and fetch_by_metadata answers (1,000 ids at most, but up to 20,000 dimensions each). */
const MAX_FETCH_RESPONSE_BYTES = 64 * 1024 * 1024;

export class ResponseTooLargeError extends InvalidArgumentError {
  constructor(limit: number, advice: string) {
    super(`The response would exceed the ${Math.round(limit / (1024 * 1024))} MB result size limit; ${advice}`);
  }
}

const QUERY_ADVICE = 'choose a lower topK, or set includeValues or includeMetadata to false';
const FETCH_ADVICE = 'fetch fewer records per request';

/** Characters that make a string need JSON escaping (quotes, backslash, controls, lone surrogates, U+2028/9). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u2028\u2029\ud800-\udfff]/;

class JsonOut {
  private buffer: Buffer;
  private length = 0;

  constructor(
    private readonly limit: number,
    private readonly advice: string,
    initial = 1024,
  ) {
    this.buffer = Buffer.allocUnsafe(initial);
  }

  /** An ASCII-only piece (punctuation, numbers, already-escaped JSON of ASCII). */
  ascii(text: string): void {
    this.reserve(text.length);
    if (text.length <= 32) {
      // Punctuation and short numbers: copied here, cheaper than a call into Buffer#write per piece.
      const buffer = this.buffer;
      let at = this.length;
      for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
      this.length = at;
    } else {
      this.length += this.buffer.write(text, this.length, 'latin1');
    }
    if (this.length > this.limit) throw new ResponseTooLargeError(this.limit, this.advice);
  }

  /** Any piece of JSON text (UTF-8 encoded). */
  text(text: string): void {
    this.reserve(text.length * 3);
    this.length += this.buffer.write(text, this.length, 'utf8');
    if (this.length > this.limit) throw new ResponseTooLargeError(this.limit, this.advice);
  }

  string(value: string): void {
    if (NEEDS_ESCAPE.test(value)) {
      this.text(JSON.stringify(value));
    } else {
      this.ascii('"');
      this.text(value);
      this.ascii('"');
    }
  }

  number(value: number): void {
    this.ascii(Number.isFinite(value) ? String(value) : 'null');
  }

  numbers(values: readonly number[] | Uint32Array): void {
    this.ascii('[');
    // join prints each number in its shortest form, as JSON.stringify does (values are always finite here).
    if (values.length > 0) this.ascii(values.join(','));
    this.ascii(']');
  }

  /** A float32 as its shortest decimal (the digits printed into the buffer). */
  float32(value: number): void {
    this.reserve(FLOAT32_JSON_MAX_BYTES);
    this.length = writeFloat32Json(this.buffer, this.length, value);
    if (this.length > this.limit) throw new ResponseTooLargeError(this.limit, this.advice);
  }

  /** `[…]` of float32 values, each its shortest decimal. */
  float32s(values: ArrayLike<number>): void {
    const count = values.length;
    this.reserve(2 + count * (FLOAT32_JSON_MAX_BYTES + 1));
    const buffer = this.buffer;
    let at = this.length;
    buffer[at++] = 0x5b;
    for (let i = 0; i < count; i++) {
      if (i > 0) buffer[at++] = 0x2c;
      at = writeFloat32Json(buffer, at, values[i]!);
    }
    buffer[at++] = 0x5d;
    this.length = at;
    if (this.length > this.limit) throw new ResponseTooLargeError(this.limit, this.advice);
  }

  /** The rendered bytes (a view of the buffer, not a copy). */
  done(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

function recordFields(out: JsonOut, record: PineconeRecord | ScoredPineconeRecord): void {
  if (record.values !== undefined) {
    out.ascii(',"values":');
    out.numbers(record.values);
  }
  if (record.sparseValues !== undefined) {
    out.ascii(',"sparseValues":{"indices":');
    out.numbers(record.sparseValues.indices);
    out.ascii(',"values":');
    out.numbers(record.sparseValues.values);
    out.ascii('}');
  }
  if (record.metadata !== undefined) {
    out.ascii(',"metadata":');
    out.text(JSON.stringify(record.metadata));
  }
}

function tail(out: JsonOut, response: { namespace: string; usage: unknown; pagination?: unknown }): void {
  if (response.pagination !== undefined) {
    out.ascii(',"pagination":');
    out.text(JSON.stringify(response.pagination));
  }
  out.ascii(',"namespace":');
  out.string(response.namespace);
  out.ascii(',"usage":');
  out.text(JSON.stringify(response.usage));
  out.ascii('}');
}

export function renderQueryResponse(response: QueryResponse, limit = MAX_QUERY_RESPONSE_BYTES): Buffer {
  const out = new JsonOut(limit, QUERY_ADVICE);
  out.ascii('{"matches":[');
  const matches = response.matches;
  for (let i = 0; i < matches.length; i++) {
    const match = matches[i]!;
    out.ascii(i === 0 ? '{"id":' : ',{"id":');
    out.string(match.id);
    out.ascii(',"score":');
    out.number(match.score);
    recordFields(out, match);
    out.ascii('}');
  }
  out.ascii(']');
  tail(out, response);
  return out.done();
}

/**
 * A query's answer printed from the engine's result: the bytes of `JSON.stringify(renderQuery(result, { ...request,
 * namespace }))` (render.ts), without building that object.
 */
export function renderQueryResult(result: QueryResult, request: QueryRequest, namespace: string, limit = MAX_QUERY_RESPONSE_BYTES): Buffer {
  const out = new JsonOut(limit, QUERY_ADVICE);
  out.ascii('{"matches":[');
  const matches = result.matches;
  for (let i = 0; i < matches.length; i++) {
    const match = matches[i]!;
    out.ascii(i === 0 ? '{"id":' : ',{"id":');
    out.string(match.id);
    out.ascii(',"score":');
    out.float32(match.score);
    if (request.includeValues) {
      out.ascii(',"values":');
      out.float32s(match.values ?? EMPTY);
      if (match.sparseValues !== undefined) {
        out.ascii(',"sparseValues":{"indices":');
        out.numbers(match.sparseValues.indices);
        out.ascii(',"values":');
        out.float32s(match.sparseValues.values);
        out.ascii('}');
      }
    }
    if (request.includeMetadata && match.metadata !== undefined) {
      out.ascii(',"metadata":');
      out.text(JSON.stringify(match.metadata));
    }
    out.ascii('}');
  }
  out.ascii('],"namespace":');
  out.string(namespace);
  out.ascii(',"usage":{"readUnits":');
  out.number(Math.max(1, Math.ceil(result.namespaceSize / 100_000)));
  out.ascii('}}');
  return out.done();
}

const EMPTY: readonly number[] = [];

export function renderFetchResponse(response: FetchResponse | FetchByMetadataResponse, limit = MAX_FETCH_RESPONSE_BYTES): Buffer {
  const out = new JsonOut(limit, FETCH_ADVICE, 4096);
  out.ascii('{"vectors":{');
  let first = true;
  for (const key in response.vectors) {
    const record = response.vectors[key]!;
    if (!first) out.ascii(',');
    first = false;
    out.string(key);
    out.ascii(':{"id":');
    out.string(record.id);
    recordFields(out, record);
    out.ascii('}');
  }
  out.ascii('}');
  tail(out, response);
  return out.done();
}

/**
 * Refuses a query whose answer cannot fit before the engine materialises it: every returned value prints as at
 * least two bytes (a digit and a separator), so topK × dimension × 2 is a lower bound of the answer's size.
 */
export function assertQueryCanFit(topK: number, dimension: number | null, includeValues: boolean, limit = MAX_QUERY_RESPONSE_BYTES): void {
  if (!includeValues || !dimension) return;
  if (topK * dimension * 2 > limit) throw new ResponseTooLargeError(limit, QUERY_ADVICE);
}
