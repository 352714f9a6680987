// Parsers for the data-plane requests: unknown JSON body (or query string) → typed request, or
// InvalidArgumentError. Both camelCase and snake_case field names are accepted (gRPC-style JSON); a
// missing namespace, "" and "__default__" are the same namespace, normalised to "".
import { parseIndexSchema, type IndexSchema } from '../control-plane/index-schema.js';
import { InvalidArgumentError } from '../errors.js';
import { parseFilter } from './filter.js';
import type { RecordMetadata } from './metadata.js';
import { bodyField, queryField, queryList, type QueryParams } from './request-fields.js';
import { isWellFormedUnicode } from './unicode.js';
import type {
  DeleteRequest,
  DescribeIndexStatsRequest,
  FetchByMetadataRequest,
  FetchRequest,
  ListNamespacesRequest,
  ListRequest,
  ParsedRecord,
  ParsedSparseValues,
  QueryRequest,
  UpdateRequest,
  UpsertRequest,
} from './types.js';

export const DATA_PLANE_LIMITS = {
  maxUpsertVectors: 1000,
  maxUpsertBytes: 2 * 1024 * 1024,
  maxTopK: 10_000,
  /** Pinecone's cap on topK when values or metadata are returned (the response would be huge). */
  maxTopKWithData: 1000,
  maxSparseTopK: 1000,
  maxMetadataBytes: 40 * 1024,
  maxIdLength: 512,
  maxFetchIds: 1000,
  maxDeleteIds: 1000,
  maxNamespaceLength: 512,
  defaultListLimit: 100,
  maxListLimit: 1000,
  defaultFetchByMetadataLimit: 100,
  maxFetchByMetadataLimit: 10_000,
} as const;

export const DEFAULT_NAMESPACE = '__default__';

type Body = Record<string, unknown>;

function asBody(raw: unknown, what: string): Body {
  // No body at all is an empty request; a body of JSON null, a list or a scalar is not a request.
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError(`${what} body must be a JSON object`);
  return raw as Body;
}


/** "", "__default__" and a missing namespace are the same; others are 1–512 printable ASCII characters. */
export function normalizeNamespace(raw: unknown): string {
  if (raw === undefined || raw === null || raw === '' || raw === DEFAULT_NAMESPACE) return '';
  if (typeof raw !== 'string') throw new InvalidArgumentError('namespace must be a string');
  validateNamespaceName(raw);
  return raw;
}

export function validateNamespaceName(name: string): void {
  if (name.length > DATA_PLANE_LIMITS.maxNamespaceLength || !/^[\x20-\x7e]+$/.test(name)) {
    throw new InvalidArgumentError(`namespace must be 1–${DATA_PLANE_LIMITS.maxNamespaceLength} printable ASCII characters`);
  }
}

/** Name of a namespace as shown by the namespace endpoints (the default one as "__default__"). */
export function displayNamespace(namespace: string): string {
  return namespace === '' ? DEFAULT_NAMESPACE : namespace;
}

function parseBool(value: unknown, name: string, fallback = false): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${name} must be true or false`);
  return value;
}

export function validateId(value: unknown, what = 'id'): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(`${what} must be a string`);
  if (value.length === 0) throw new InvalidArgumentError(`${what} must not be empty`);
  if (value.length > DATA_PLANE_LIMITS.maxIdLength) {
    throw new InvalidArgumentError(`${what} is longer than ${DATA_PLANE_LIMITS.maxIdLength} characters`);
  }
  checkUnicode(value, what);
  return value;
}

/** 400 for a string with a lone UTF-16 surrogate (it cannot survive UTF-8 storage: see unicode.ts). */
function checkUnicode(value: string, what: string): void {
  if (!isWellFormedUnicode(value)) throw new InvalidArgumentError(`${what} is not well-formed Unicode (lone UTF-16 surrogate)`);
}

/** Finite numbers that stay finite as float32. */
export function parseDenseValues(raw: unknown, what = 'values'): Float32Array {
  if (!Array.isArray(raw)) throw new InvalidArgumentError(`${what} must be an array of numbers`);
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new InvalidArgumentError(`${what}[${i}] is not a finite number (NaN and Infinity are not allowed)`);
    }
    const f = Math.fround(v);
    if (!Number.isFinite(f)) throw new InvalidArgumentError(`${what}[${i}] is out of the float32 range`);
    out[i] = f;
  }
  return out;
}

export function parseSparseValues(raw: unknown, what = 'sparseValues'): ParsedSparseValues {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgumentError(`${what} must be an object with indices and values`);
  }
  const body = raw as Body;
  const indices = body.indices;
  if (!Array.isArray(indices)) throw new InvalidArgumentError(`${what}.indices must be an array of integers`);
  const values = parseDenseValues(body.values, `${what}.values`);
  if (indices.length !== values.length) {
    throw new InvalidArgumentError(`${what}.indices and ${what}.values must have the same length`);
  }
  const idx = new Uint32Array(indices.length);
  const seen = new Set<number>();
  for (let i = 0; i < indices.length; i++) {
    const v = indices[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new InvalidArgumentError(`${what}.indices[${i}] must be an integer between 0 and 4294967295`);
    }
    if (seen.has(v)) throw new InvalidArgumentError(`${what}.indices contains ${v} more than once`);
    seen.add(v);
    idx[i] = v;
  }
  // Keep sorted by index (dot products then merge in linear time).
  const order = Array.from(idx.keys()).sort((a, b) => idx[a]! - idx[b]!);
  return { indices: Uint32Array.from(order, (i) => idx[i]!), values: Float32Array.from(order, (i) => values[i]!) };
}

/** Metadata: string, finite number, boolean or list of strings per key; keys not starting with "$"; ≤ 40 KB. */
export function parseMetadata(raw: unknown, what = 'metadata'): RecordMetadata | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidArgumentError(`${what} must be a JSON object`);
  const out: RecordMetadata = {};
  for (const [key, value] of Object.entries(raw as Body)) {
    if (key.length === 0) throw new InvalidArgumentError(`${what} keys must not be empty`);
    if (key.startsWith('$')) throw new InvalidArgumentError(`${what} key "${key}" must not start with "$"`);
    if (key === '__proto__') throw new InvalidArgumentError(`${what} key "__proto__" is not allowed`);
    checkUnicode(key, `${what} key`);
    if (typeof value === 'string') checkUnicode(value, `${what}.${key}`);
    if (typeof value === 'string' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`${what}.${key} must be a finite number`);
      out[key] = value;
    } else if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === 'string')) {
        throw new InvalidArgumentError(`${what}.${key}: lists may hold only strings`);
      }
      for (const v of value as string[]) checkUnicode(v, `${what}.${key}`);
      out[key] = [...(value as string[])];
    } else {
      throw new InvalidArgumentError(`${what}.${key} must be a string, number, boolean or list of strings`);
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(out));
  if (bytes > DATA_PLANE_LIMITS.maxMetadataBytes) {
    throw new InvalidArgumentError(
      `${what} is ${bytes} bytes; at most ${DATA_PLANE_LIMITS.maxMetadataBytes} bytes per vector are allowed`,
    );
  }
  return out;
}

function parseRecord(raw: unknown, i: number): ParsedRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InvalidArgumentError(`vectors[${i}] must be an object`);
  }
  const body = raw as Body;
  const record: ParsedRecord = { id: validateId(body.id, `vectors[${i}].id`) };
  const values = body.values;
  if (values !== undefined && values !== null) record.values = parseDenseValues(values, `vectors[${i}].values`);
  const sparse = bodyField(body, 'sparseValues');
  if (sparse !== undefined && sparse !== null) record.sparseValues = parseSparseValues(sparse, `vectors[${i}].sparseValues`);
  const metadata = parseMetadata(body.metadata, `vectors[${i}].metadata`);
  if (metadata !== undefined) record.metadata = metadata;
  return record;
}

export function parseUpsertRequest(raw: unknown): UpsertRequest {
  const body = asBody(raw, 'upsert');
  const vectors = body.vectors;
  if (!Array.isArray(vectors)) throw new InvalidArgumentError('vectors must be an array');
  if (vectors.length === 0) throw new InvalidArgumentError('vectors must not be empty');
  if (vectors.length > DATA_PLANE_LIMITS.maxUpsertVectors) {
    throw new InvalidArgumentError(
      `${vectors.length} vectors in one upsert; at most ${DATA_PLANE_LIMITS.maxUpsertVectors} are allowed`,
    );
  }
  return { namespace: normalizeNamespace(body.namespace), vectors: vectors.map(parseRecord) };
}

function parseTopK(value: unknown): number {
  if (value === undefined || value === null) throw new InvalidArgumentError('topK is required');
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > DATA_PLANE_LIMITS.maxTopK) {
    throw new InvalidArgumentError(`topK must be an integer between 1 and ${DATA_PLANE_LIMITS.maxTopK}`);
  }
  return value;
}

export function parseQueryRequest(raw: unknown): QueryRequest {
  const body = asBody(raw, 'query');
  const request: QueryRequest = {
    namespace: normalizeNamespace(body.namespace),
    topK: parseTopK(bodyField(body, 'topK')),
    includeValues: parseBool(bodyField(body, 'includeValues'), 'includeValues'),
    includeMetadata: parseBool(bodyField(body, 'includeMetadata'), 'includeMetadata'),
  };
  const vector = body.vector;
  if (vector !== undefined && vector !== null) {
    request.vector = parseDenseValues(vector, 'vector');
    if (request.vector.length === 0) delete request.vector;
  }
  const sparse = bodyField(body, 'sparseVector');
  if (sparse !== undefined && sparse !== null) request.sparseVector = parseSparseValues(sparse, 'sparseVector');
  if (body.id !== undefined && body.id !== null) request.id = validateId(body.id);
  if (request.id !== undefined && (request.vector !== undefined || request.sparseVector !== undefined)) {
    throw new InvalidArgumentError('give either id or vector/sparseVector in a query, not both');
  }
  if (request.id === undefined && request.vector === undefined && request.sparseVector === undefined) {
    throw new InvalidArgumentError('a query needs one of vector, sparseVector or id');
  }
  if ((request.includeValues || request.includeMetadata) && request.topK > DATA_PLANE_LIMITS.maxTopKWithData) {
    throw new InvalidArgumentError(
      `topK must be at most ${DATA_PLANE_LIMITS.maxTopKWithData} when includeValues or includeMetadata is true (got ${request.topK})`,
    );
  }
  if (request.sparseVector !== undefined && request.topK > DATA_PLANE_LIMITS.maxSparseTopK) {
    throw new InvalidArgumentError(`topK must be at most ${DATA_PLANE_LIMITS.maxSparseTopK} for queries with a sparse vector`);
  }
  const filter = parseFilter(body.filter);
  if (filter !== undefined) request.filter = filter;
  for (const name of ['scanFactor', 'maxCandidates']) {
    const v = bodyField(body, name);
    if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidArgumentError(`${name} must be a non-negative number`);
    }
  }
  return request;
}

// Query parameters are read by the reader the gateway's namespace scope uses too (a repeated one is refused).
const queryValue = queryField;
const queryValues = queryList;

function parseLimit(raw: unknown, fallback: number, max: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max) {
    throw new InvalidArgumentError(`limit must be an integer between 1 and ${max}`);
  }
  return n;
}

function parseToken(raw: unknown): string | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') throw new InvalidArgumentError('paginationToken must be a string');
  return raw;
}

export function parseFetchQuery(query: QueryParams): FetchRequest {
  const ids = queryValues(query, 'ids');
  if (ids.length === 0) throw new InvalidArgumentError('fetch needs at least one id (ids=...)');
  if (ids.length > DATA_PLANE_LIMITS.maxFetchIds) {
    throw new InvalidArgumentError(`fetch accepts at most ${DATA_PLANE_LIMITS.maxFetchIds} ids`);
  }
  return { namespace: normalizeNamespace(queryValue(query, 'namespace')), ids: ids.map((id) => validateId(id)) };
}

export function parseFetchByMetadataRequest(raw: unknown): FetchByMetadataRequest {
  const body = asBody(raw, 'fetch_by_metadata');
  const request: FetchByMetadataRequest = {
    namespace: normalizeNamespace(body.namespace),
    limit: parseLimit(body.limit, DATA_PLANE_LIMITS.defaultFetchByMetadataLimit, DATA_PLANE_LIMITS.maxFetchByMetadataLimit),
  };
  const filter = parseFilter(body.filter);
  if (filter !== undefined) request.filter = filter;
  const token = parseToken(bodyField(body, 'paginationToken'));
  if (token !== undefined) request.paginationToken = token;
  return request;
}

export function parseUpdateRequest(raw: unknown): UpdateRequest {
  const body = asBody(raw, 'update');
  const namespace = normalizeNamespace(body.namespace);
  const setMetadataRaw = bodyField(body, 'setMetadata');
  const setMetadata = parseMetadata(setMetadataRaw, 'setMetadata');
  const hasId = body.id !== undefined && body.id !== null;
  const hasFilter = body.filter !== undefined && body.filter !== null;
  if (hasId && hasFilter) throw new InvalidArgumentError('update takes either id or filter, not both');
  if (hasFilter) {
    const filter = parseFilter(body.filter);
    if (filter === undefined) throw new InvalidArgumentError('filter must not be empty in an update by filter');
    if (setMetadata === undefined) throw new InvalidArgumentError('an update by filter needs setMetadata');
    if (body.values !== undefined || bodyField(body, 'sparseValues') !== undefined) {
      throw new InvalidArgumentError('an update by filter can only set metadata');
    }
    return { kind: 'filter', namespace, filter, setMetadata, dryRun: parseBool(bodyField(body, 'dryRun'), 'dryRun') };
  }
  const request: UpdateRequest = { kind: 'id', namespace, id: validateId(body.id) };
  if (body.values !== undefined && body.values !== null) {
    request.values = parseDenseValues(body.values);
    if (request.values.length === 0) delete request.values;
  }
  const sparse = bodyField(body, 'sparseValues');
  if (sparse !== undefined && sparse !== null) request.sparseValues = parseSparseValues(sparse);
  if (setMetadata !== undefined) request.setMetadata = setMetadata;
  return request;
}

export function parseDeleteRequest(raw: unknown): DeleteRequest {
  const body = asBody(raw, 'delete');
  const namespace = normalizeNamespace(body.namespace);
  const deleteAll = parseBool(bodyField(body, 'deleteAll'), 'deleteAll');
  const ids = body.ids;
  const hasIds = Array.isArray(ids) && ids.length > 0;
  const hasFilter = body.filter !== undefined && body.filter !== null;
  if (ids !== undefined && ids !== null && !Array.isArray(ids)) throw new InvalidArgumentError('ids must be an array of strings');
  const modes = Number(deleteAll) + Number(hasIds) + Number(hasFilter);
  if (modes === 0) throw new InvalidArgumentError('delete needs ids, deleteAll or filter');
  if (modes > 1) throw new InvalidArgumentError('give only one of ids, deleteAll and filter in a delete');
  if (deleteAll) return { kind: 'all', namespace };
  if (hasIds) {
    if (ids.length > DATA_PLANE_LIMITS.maxDeleteIds) {
      throw new InvalidArgumentError(`delete accepts at most ${DATA_PLANE_LIMITS.maxDeleteIds} ids`);
    }
    return { kind: 'ids', namespace, ids: ids.map((id, i) => validateId(id, `ids[${i}]`)) };
  }
  const filter = parseFilter(body.filter);
  if (filter === undefined) throw new InvalidArgumentError('filter must not be empty in a delete by filter');
  return { kind: 'filter', namespace, filter };
}

export function parseListQuery(query: QueryParams): ListRequest {
  const request: ListRequest = {
    namespace: normalizeNamespace(queryValue(query, 'namespace')),
    prefix: queryValue(query, 'prefix') ?? '',
    limit: parseLimit(queryValue(query, 'limit'), DATA_PLANE_LIMITS.defaultListLimit, DATA_PLANE_LIMITS.maxListLimit),
  };
  const token = parseToken(queryValue(query, 'paginationToken'));
  if (token !== undefined) request.paginationToken = token;
  return request;
}

export function parseDescribeIndexStatsRequest(raw: unknown): DescribeIndexStatsRequest {
  const body = asBody(raw, 'describe_index_stats');
  const filter = parseFilter(body.filter);
  return filter === undefined ? {} : { filter };
}

export function parseListNamespacesQuery(query: QueryParams): ListNamespacesRequest {
  const request: ListNamespacesRequest = {
    limit: parseLimit(queryValue(query, 'limit'), DATA_PLANE_LIMITS.defaultListLimit, DATA_PLANE_LIMITS.maxListLimit),
    prefix: queryValue(query, 'prefix') ?? '',
  };
  const token = parseToken(queryValue(query, 'paginationToken'));
  if (token !== undefined) request.paginationToken = token;
  return request;
}

/** `POST /namespaces {name, schema?}`; `schema` is a MetadataSchema: only its filterable fields are indexed. */
export function parseCreateNamespaceRequest(raw: unknown): { name: string; schema?: IndexSchema } {
  const body = asBody(raw, 'create namespace');
  const name = body.name;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('name is required');
  if (name === DEFAULT_NAMESPACE) throw new InvalidArgumentError(`"${DEFAULT_NAMESPACE}" is reserved`);
  validateNamespaceName(name);
  if (body.schema === undefined || body.schema === null) return { name };
  return { name, schema: parseIndexSchema(body.schema, { path: 'schema', vectors: false }) };
}

/** Opaque pagination tokens: base64url of the last id returned. */
export function encodePaginationToken(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

export function decodePaginationToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new InvalidArgumentError('paginationToken is not valid');
  return Buffer.from(token, 'base64url').toString('utf8');
}
