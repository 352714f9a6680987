// The 2026-07 index schema (`schema.fields`), in exactly Pinecone's wire shape (snake_case), as the gateway
// stores it in the catalog, echoes it to 9.x clients and sends it to the vector store (IndexSettings.schema).
// Read from the 9.x client's generated models (CreateIndexSchemaField, TypedIndexSchemaField,
// LegacyMetadataField, MetadataSchema) and Pinecone's reference docs:
// - vector fields: `dense_vector` {dimension, metric}, `sparse_vector` {}; at most one of each. The reserved
//   names `_values` (dense) and `_sparse_values` (sparse) make an index served by the vectors API (what
//   `dimension`/`metric`/`vector_type` create); other names make a documents-API index.
// - `string` with `full_text_search` {language, stemming, stop_words}: a full-text field (documents API).
// - metadata fields: `string`, `float`, `integer`, `boolean`, `string_list` with `filterable`, or the untyped
//   legacy form `{"filterable": true}` (MetadataSchema of 2025-10 `spec.serverless.schema` and of
//   `POST /namespaces`). Only `filterable: true` fields are indexed for filtering; Pinecone does not support
//   the untyped `{"filterable": false}`.
// - `semantic_text` needs a hosted embedding model, which Conifer does not have: refused.
import { InvalidArgumentError } from '../errors.js';
import { parseDimension, parseMetric, type IndexMetric, type VectorSettings } from './vector-settings.js';

export type MetadataFieldType = 'string' | 'float' | 'integer' | 'boolean' | 'string_list';

export interface DenseVectorSchemaField {
  readonly type: 'dense_vector';
  readonly dimension: number;
  readonly metric: IndexMetric;
  readonly description?: string;
}

export interface SparseVectorSchemaField {
  readonly type: 'sparse_vector';
  readonly description?: string;
}

export interface FullTextSearchSettings {
  readonly language: string;
  readonly stemming: boolean;
  readonly stop_words: boolean;
}

export interface TypedMetadataSchemaField {
  readonly type: MetadataFieldType;
  readonly filterable?: boolean;
  readonly description?: string;
  /** Only on `string` fields: the field is ranked by BM25 (documents API). */
  readonly full_text_search?: FullTextSearchSettings;
}

/** The untyped form of MetadataSchema: `{"filterable": true}`. */
export interface LegacyMetadataSchemaField {
  readonly filterable: true;
}

export type IndexSchemaField = DenseVectorSchemaField | SparseVectorSchemaField | TypedMetadataSchemaField | LegacyMetadataSchemaField;

export interface IndexSchema {
  readonly fields: Readonly<Record<string, IndexSchemaField>>;
}

export const RESERVED_DENSE_FIELD = '_values';
export const RESERVED_SPARSE_FIELD = '_sparse_values';
export const SCHEMA_LIMITS = {
  maxFields: 200,
  maxFieldNameBytes: 64,
  maxDescriptionLength: 1024,
} as const;

const METADATA_TYPES: readonly string[] = ['string', 'float', 'integer', 'boolean', 'string_list'];
const LANGUAGE = /^[a-z]{2,3}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface ParseSchemaOptions {
  /** Where the schema came from, for messages: "schema", "spec.serverless.schema", "namespace schema". */
  readonly path: string;
  /** Vector and full-text fields allowed (an index schema); false for metadata-only schemas. */
  readonly vectors: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refuseUnknown(field: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(field)) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(`${where}: "${key}" is not supported`);
  }
}

function description(value: unknown, where: string): { description?: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'string' || value.length > SCHEMA_LIMITS.maxDescriptionLength) {
    throw new InvalidArgumentError(`${where}.description must be a string of at most ${SCHEMA_LIMITS.maxDescriptionLength} characters`);
  }
  return { description: value };
}

function fieldName(name: string, path: string): void {
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > SCHEMA_LIMITS.maxFieldNameBytes) {
    throw new InvalidArgumentError(`${path}: field names must be 1-${SCHEMA_LIMITS.maxFieldNameBytes} bytes`);
  }
  if (name.startsWith('$')) throw new InvalidArgumentError(`${path}: field "${name}" must not start with '$'`);
  if (LONE_SURROGATE.test(name)) throw new InvalidArgumentError(`${path}: field "${name}" is not valid Unicode`);
}

function parseFullTextSearch(value: unknown, where: string): FullTextSearchSettings {
  if (!isObject(value)) throw new InvalidArgumentError(`${where}.full_text_search must be an object ({} for the defaults)`);
  refuseUnknown(value, ['language', 'stemming', 'stop_words'], `${where}.full_text_search`);
  const language = value.language ?? 'en';
  if (typeof language !== 'string' || !LANGUAGE.test(language)) {
    throw new InvalidArgumentError(`${where}.full_text_search.language must be a language code such as "en"`);
  }
  for (const flag of ['stemming', 'stop_words'] as const) {
    if (value[flag] !== undefined && typeof value[flag] !== 'boolean') {
      throw new InvalidArgumentError(`${where}.full_text_search.${flag} must be true or false`);
    }
  }
  return { language, stemming: value.stemming === true, stop_words: value.stop_words === true };
}

function parseField(name: string, raw: unknown, options: ParseSchemaOptions): IndexSchemaField {
  const where = `${options.path}.fields.${name}`;
  if (!isObject(raw)) throw new InvalidArgumentError(`${where} must be an object`);
  if (raw.type === undefined) {
    // MetadataSchema's untyped form.
    refuseUnknown(raw, ['filterable'], where);
    if (raw.filterable !== true) {
      throw new InvalidArgumentError(`${where}: only {"filterable": true} is supported; omit a field to leave it unindexed`);
    }
    return { filterable: true };
  }
  const type = raw.type;
  if (type === 'semantic_text') {
    throw new InvalidArgumentError(
      `${where}: semantic_text fields need a hosted embedding model, which Conifer does not provide; declare a dense_vector field and upsert your own vectors`,
    );
  }
  if (type === 'dense_vector' || type === 'sparse_vector') {
    if (!options.vectors) throw new InvalidArgumentError(`${where}: a ${options.path} declares metadata fields only`);
    const isDense = type === 'dense_vector';
    if ((name === RESERVED_DENSE_FIELD && !isDense) || (name === RESERVED_SPARSE_FIELD && isDense)) {
      throw new InvalidArgumentError(`${where}: "${name}" is reserved for a ${name === RESERVED_DENSE_FIELD ? 'dense_vector' : 'sparse_vector'} field`);
    }
    if (name.startsWith('_') && name !== RESERVED_DENSE_FIELD && name !== RESERVED_SPARSE_FIELD) {
      throw new InvalidArgumentError(`${where}: field names starting with '_' are reserved`);
    }
    if (!isDense) {
      refuseUnknown(raw, ['type', 'description', 'metric'], where);
      if (raw.metric !== undefined && raw.metric !== 'dotproduct') {
        throw new InvalidArgumentError(`${where}: sparse vectors are scored with the dotproduct metric`);
      }
      return { type, ...description(raw.description, where) };
    }
    refuseUnknown(raw, ['type', 'description', 'dimension', 'metric'], where);
    const dimension = parseDimension(raw.dimension, `${where}.dimension`);
    const metric = parseMetric(raw.metric ?? 'cosine', `${where}.metric`);
    return { type, dimension, metric, ...description(raw.description, where) };
  }
  if (typeof type !== 'string' || !METADATA_TYPES.includes(type)) {
    throw new InvalidArgumentError(
      `${where}.type must be one of "dense_vector", "sparse_vector", "string", "float", "integer", "boolean", "string_list"`,
    );
  }
  if (name === RESERVED_DENSE_FIELD || name === RESERVED_SPARSE_FIELD || name.startsWith('_')) {
    throw new InvalidArgumentError(`${where}: field names starting with '_' are reserved`);
  }
  refuseUnknown(raw, type === 'string' ? ['type', 'description', 'filterable', 'full_text_search'] : ['type', 'description', 'filterable'], where);
  if (raw.filterable !== undefined && typeof raw.filterable !== 'boolean') {
    throw new InvalidArgumentError(`${where}.filterable must be true or false`);
  }
  const fullText = raw.full_text_search === undefined || raw.full_text_search === null ? undefined : raw.full_text_search;
  if (fullText !== undefined && !options.vectors) {
    throw new InvalidArgumentError(`${where}: full_text_search is declared in the index schema, not in a ${options.path}`);
  }
  return {
    type: type as MetadataFieldType,
    ...(fullText === undefined ? {} : { full_text_search: parseFullTextSearch(fullText, where) }),
    // A typed metadata field is filterable unless it says otherwise; a full-text field only when it says so.
    filterable: typeof raw.filterable === 'boolean' ? raw.filterable : fullText === undefined,
    ...description(raw.description, where),
  };
}

/** Parses a schema in Pinecone's wire shape, or throws InvalidArgumentError naming the offending field. */
export function parseIndexSchema(raw: unknown, options: ParseSchemaOptions): IndexSchema {
  if (!isObject(raw)) throw new InvalidArgumentError(`${options.path} must be an object like {"fields": {...}}`);
  refuseUnknown(raw, ['fields'], options.path);
  const fields = raw.fields;
  if (!isObject(fields)) throw new InvalidArgumentError(`${options.path}.fields must be an object of field name to field`);
  const entries = Object.entries(fields);
  if (entries.length > SCHEMA_LIMITS.maxFields) {
    throw new InvalidArgumentError(`${options.path} declares ${entries.length} fields; at most ${SCHEMA_LIMITS.maxFields} are allowed`);
  }
  // fromEntries defines own properties, so a field named "__proto__" stays a field.
  const parsed: Record<string, IndexSchemaField> = Object.fromEntries(
    entries.map(([name, field]) => {
      fieldName(name, options.path);
      return [name, parseField(name, field, options)];
    }),
  );
  const vectors = Object.entries(parsed).filter(([, field]) => isVectorField(field));
  if (vectors.filter(([, f]) => (f as { type: string }).type === 'dense_vector').length > 1) {
    throw new InvalidArgumentError(`${options.path}: at most one dense_vector field is allowed`);
  }
  if (vectors.filter(([, f]) => (f as { type: string }).type === 'sparse_vector').length > 1) {
    throw new InvalidArgumentError(`${options.path}: at most one sparse_vector field is allowed`);
  }
  const reserved = vectors.filter(([name]) => name === RESERVED_DENSE_FIELD || name === RESERVED_SPARSE_FIELD).length;
  if (reserved > 0 && reserved < vectors.length) {
    throw new InvalidArgumentError(
      `${options.path}: the reserved vector fields "${RESERVED_DENSE_FIELD}"/"${RESERVED_SPARSE_FIELD}" cannot be mixed with named vector fields`,
    );
  }
  if (reserved > 0 && Object.values(parsed).some((field) => 'full_text_search' in field && field.full_text_search !== undefined)) {
    throw new InvalidArgumentError(`${options.path}: full-text fields need named vector fields (a documents index), not "${RESERVED_DENSE_FIELD}"`);
  }
  return { fields: parsed };
}

export function isVectorField(field: IndexSchemaField): field is DenseVectorSchemaField | SparseVectorSchemaField {
  return 'type' in field && (field.type === 'dense_vector' || field.type === 'sparse_vector');
}

/** True when the schema makes a vectors-API index (its vector fields are the reserved ones). */
export function isVectorsApiSchema(schema: IndexSchema): boolean {
  return RESERVED_DENSE_FIELD in schema.fields || RESERVED_SPARSE_FIELD in schema.fields;
}

/**
 * Metadata fields that get posting lists, or undefined when the schema declares no metadata field (Pinecone's
 * default: every metadata field is indexed).
 */
export function filterableFields(schema: IndexSchema | undefined): string[] | undefined {
  if (schema === undefined) return undefined;
  const metadata = Object.entries(schema.fields).filter(([, field]) => !isVectorField(field));
  if (metadata.length === 0) return undefined;
  return metadata.filter(([, field]) => 'filterable' in field && field.filterable === true).map(([name]) => name).sort();
}

/** The vector settings an index schema implies: the one dense field, else the one sparse field, else none. */
export function vectorSettingsOfSchema(schema: IndexSchema): VectorSettings | null {
  const fields = Object.values(schema.fields).filter(isVectorField);
  const dense = fields.find((field): field is DenseVectorSchemaField => field.type === 'dense_vector');
  if (dense) return { dimension: dense.dimension, metric: dense.metric, vectorType: 'dense' };
  if (fields.some((field) => field.type === 'sparse_vector')) return { dimension: null, metric: 'dotproduct', vectorType: 'sparse' };
  return null;
}

/** The schema of an index created the pre-2026-07 way (dimension, metric, vector_type) plus declared metadata. */
export function schemaFromVectorSettings(
  settings: VectorSettings,
  metadata?: IndexSchema,
): IndexSchema {
  const vectorFields: Record<string, IndexSchemaField> =
    settings.vectorType === 'dense' && settings.dimension !== null
      ? { [RESERVED_DENSE_FIELD]: { type: 'dense_vector', dimension: settings.dimension, metric: settings.metric } }
      : { [RESERVED_SPARSE_FIELD]: { type: 'sparse_vector' } };
  return { fields: { ...vectorFields, ...(metadata?.fields ?? {}) } };
}

/** The metadata part of a schema in MetadataSchema's shape (`{"fields":{"x":{"filterable":true}}}`), or undefined. */
export function metadataSchemaOf(schema: IndexSchema | undefined): { fields: Record<string, { filterable: boolean }> } | undefined {
  const names = filterableFields(schema);
  if (names === undefined) return undefined;
  return { fields: Object.fromEntries(names.map((name) => [name, { filterable: true }])) };
}
