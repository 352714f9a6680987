// A document is stored as a record of the index: `_id` ↔ id, the schema's dense_vector field ↔ values, its
// sparse_vector field ↔ sparse values, every other field ↔ metadata. So documents share the WAL,
// snapshots, filters and ANN search of vectors; the full-text indexes are derived from the metadata.
import {
  float32ArrayToJson,
  float32ToShortest,
  InvalidArgumentError,
  parseDenseValues,
  parseSparseValues,
  validateId,
  type MetadataValue,
  type ParsedSparseValues,
  type RecordMetadata,
} from '@conifer/contracts';
import type { StoredRecordInput } from '@conifer/engine';
import type { DocumentSchema } from './index-schema.js';

type Body = Record<string, unknown>;

export function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field names a document may not use for its own fields. */
const RESERVED = new Set(['_id', '_score', '_remove_fields', '__proto__']);

export function checkFieldName(name: string, what: string): void {
  if (name.length === 0) throw new InvalidArgumentError(`${what}: field names must not be empty`);
  if (name.startsWith('$')) throw new InvalidArgumentError(`${what}: field name "${name}" must not start with "$"`);
  if (RESERVED.has(name)) throw new InvalidArgumentError(`${what}: "${name}" is reserved`);
}

/** Checks one non-vector field value against its declared type (or, undeclared, the metadata types). */
export function metadataValue(schema: DocumentSchema, name: string, value: unknown, what: string): MetadataValue {
  const spec = schema.fields.get(name);
  const where = `${what}.${name}`;
  switch (spec?.kind) {
    case 'string':
      if (typeof value !== 'string') throw new InvalidArgumentError(`${where} must be a string (declared string in the schema)`);
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(`${where} must be a finite number (declared float)`);
      return value;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`${where} must be an integer (declared integer)`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw new InvalidArgumentError(`${where} must be a boolean (declared boolean)`);
      return value;
    case 'string_list':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        throw new InvalidArgumentError(`${where} must be a list of strings (declared string_list)`);
      }
      return [...(value as string[])];
    default:
      if (typeof value === 'string' || typeof value === 'boolean') return value;
      if (typeof value === 'number') {
        if (!Number.isFinite(value)) throw new InvalidArgumentError(`${where} must be a finite number`);
        return value;
      }
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return [...(value as string[])];
      throw new InvalidArgumentError(`${where} must be a string, number, boolean or list of strings`);
  }
}

export function denseValue(schema: DocumentSchema, field: string, value: unknown, dimension: number, what: string): Float32Array {
  const values = parseDenseValues(value, `${what}.${field}`);
  if (values.length !== dimension) {
    throw new InvalidArgumentError(`${what}.${field}: vector dimension ${values.length} does not match the field's dimension ${dimension}`);
  }
  void schema;
  return values;
}

export function sparseValue(field: string, value: unknown, what: string): ParsedSparseValues {
  return parseSparseValues(value, `${what}.${field}`);
}

/** A document of an upsert → the record it is stored as. */
export function documentToRecord(schema: DocumentSchema, dimension: number | null, raw: unknown, what: string): StoredRecordInput {
  if (!isObject(raw)) throw new InvalidArgumentError(`${what} must be an object`);
  const record: StoredRecordInput = { id: validateId(raw._id, `${what}._id`) };
  const metadata: RecordMetadata = {};
  let hasMetadata = false;
  for (const [name, value] of Object.entries(raw)) {
    if (name === '_id') continue;
    checkFieldName(name, what);
    if (value === null || value === undefined) continue;
    if (name === schema.dense) {
      record.values = denseValue(schema, name, value, dimension ?? 0, what);
    } else if (name === schema.sparse) {
      record.sparseValues = sparseValue(name, value, what);
    } else {
      metadata[name] = metadataValue(schema, name, value, what);
      hasMetadata = true;
    }
  }
  if (schema.dense !== undefined && record.values === undefined) {
    throw new InvalidArgumentError(`${what}: the dense_vector field "${schema.dense}" is required`);
  }
  if (hasMetadata) record.metadata = metadata;
  return record;
}

/** The fields of a stored record as a document (`_id` first), limited to `include` when given. */
export function recordToDocument(
  schema: DocumentSchema,
  id: string,
  values: ArrayLike<number> | undefined,
  sparse: ParsedSparseValues | undefined,
  metadata: RecordMetadata | undefined,
  include: ReadonlySet<string> | 'all',
): Record<string, unknown> {
  const doc: Record<string, unknown> = { _id: id };
  const wanted = (name: string): boolean => include === 'all' || include.has(name);
  if (schema.dense !== undefined && values !== undefined && values.length > 0 && wanted(schema.dense)) {
    doc[schema.dense] = float32ArrayToJson(values);
  }
  if (schema.sparse !== undefined && sparse !== undefined && wanted(schema.sparse)) {
    doc[schema.sparse] = { indices: Array.from(sparse.indices), values: Array.from(sparse.values, float32ToShortest) };
  }
  if (metadata !== undefined) {
    for (const [name, value] of Object.entries(metadata)) if (wanted(name)) doc[name] = value;
  }
  return doc;
}
