// The documents API's view of an index's 2026-07 `schema` (`{"fields":{"<name>":{"type":…}}}`, snake_case as on
// Pinecone's wire). The shape is checked, and Pinecone's defaults filled, by the control plane's parser in
// @conifer/contracts (control-plane/index-schema.ts, shared with the gateway); this file turns it into the typed
// view the documents API works with and refuses what Conifer cannot serve.
import { InvalidArgumentError, parseIndexSchema, type IndexMetric, type IndexSchema, type IndexSettings } from '@conifer/contracts';
import { DEFAULT_TEXT_ANALYSIS, isSupportedLanguage, SUPPORTED_LANGUAGES, type TextAnalysisSettings } from '@conifer/engine';

type DocumentFieldSpec =
  | { readonly kind: 'dense_vector'; readonly dimension: number; readonly metric: IndexMetric }
  | { readonly kind: 'sparse_vector' }
  | { readonly kind: 'string'; readonly fullTextSearch?: TextAnalysisSettings }
  | { readonly kind: 'float' | 'integer' | 'boolean' | 'string_list' }
  /** A field reported with only `filterable` (indexes created by earlier API versions). */
  | { readonly kind: 'metadata' };

export interface DocumentSchema {
  readonly fields: ReadonlyMap<string, DocumentFieldSpec>;
  /** Name of the dense_vector field, if any. */
  readonly dense?: string;
  /** Name of the sparse_vector field, if any. */
  readonly sparse?: string;
  /** Names of the string fields with full_text_search. */
  readonly text: readonly string[];
}

const SEMANTIC_TEXT_REFUSAL =
  'semantic_text fields need an integrated embedding model, and Conifer hosts no embedding model: embed the text ' +
  'yourself and declare a dense_vector or sparse_vector field (plus a string field with full_text_search for BM25)';

const FIELD_NAME = /^[^$][^\u0000]{0,63}$/u;

type Body = Record<string, unknown>;

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalBoolean(body: Body, key: string, what: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`${what}.${key} must be a boolean`);
  return value;
}

function readFullTextSearch(raw: unknown, what: string): TextAnalysisSettings {
  if (!isObject(raw)) throw new InvalidArgumentError(`${what} must be an object ({} enables it with the defaults)`);
  if (raw.ngram !== undefined && raw.ngram !== null) {
    throw new InvalidArgumentError(`${what}.ngram: n-gram tokenisation is not supported by Conifer`);
  }
  const language = raw.language ?? DEFAULT_TEXT_ANALYSIS.language;
  if (typeof language !== 'string' || !isSupportedLanguage(language)) {
    throw new InvalidArgumentError(`${what}.language must be one of ${SUPPORTED_LANGUAGES.join(', ')}`);
  }
  const stemming = optionalBoolean(raw, 'stemming', what) ?? false;
  const stopWords = optionalBoolean(raw, 'stop_words', what) ?? optionalBoolean(raw, 'stopWords', what) ?? false;
  if (stopWords && !stemming) throw new InvalidArgumentError(`${what}.stop_words requires stemming: true`);
  return { language, stemming, stopWords };
}

function readField(name: string, raw: unknown): DocumentFieldSpec {
  const what = `schema.fields.${name}`;
  if (!isObject(raw)) throw new InvalidArgumentError(`${what} must be an object`);
  const type = raw.type;
  if (type === undefined) {
    if (typeof raw.filterable !== 'boolean') throw new InvalidArgumentError(`${what}.type is required`);
    return { kind: 'metadata' };
  }
  switch (type) {
    case 'dense_vector': {
      const dimension = raw.dimension;
      if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 20_000) {
        throw new InvalidArgumentError(`${what}.dimension must be an integer between 1 and 20000`);
      }
      const metric = raw.metric ?? 'cosine';
      if (metric !== 'cosine' && metric !== 'euclidean' && metric !== 'dotproduct') {
        throw new InvalidArgumentError(`${what}.metric must be "cosine", "euclidean" or "dotproduct"`);
      }
      return { kind: 'dense_vector', dimension, metric };
    }
    case 'sparse_vector':
      return { kind: 'sparse_vector' };
    case 'string': {
      const fts = raw.full_text_search ?? raw.fullTextSearch;
      if (fts === undefined || fts === null) return { kind: 'string' };
      return { kind: 'string', fullTextSearch: readFullTextSearch(fts, `${what}.full_text_search`) };
    }
    case 'float':
    case 'integer':
    case 'boolean':
    case 'string_list':
      return { kind: type as 'float' | 'integer' | 'boolean' | 'string_list' };
    case 'semantic_text':
      throw new InvalidArgumentError(`${what}: ${SEMANTIC_TEXT_REFUSAL}`);
    default:
      throw new InvalidArgumentError(
        `${what}.type must be one of dense_vector, sparse_vector, string, float, integer, boolean, string_list`,
      );
  }
}

/** Validates a schema in the wire shape and returns it unchanged (what is persisted and compared). */
export function readIndexSchema(raw: unknown): IndexSchema {
  // The control plane's parser (shared with the gateway) checks the shape and fills Pinecone's defaults; this
  // reader then refuses what the documents API cannot serve.
  const schema = parseIndexSchema(raw, { path: 'schema', vectors: true });
  documentSchemaOf(schema);
  return schema;
}

const parsed = new WeakMap<object, DocumentSchema>();

/** The typed view of a (wire) schema; throws InvalidArgumentError for anything Conifer cannot serve. */
export function documentSchemaOf(raw: unknown): DocumentSchema {
  if (isObject(raw)) {
    const cached = parsed.get(raw);
    if (cached !== undefined) return cached;
  }
  if (!isObject(raw) || !isObject(raw.fields)) throw new InvalidArgumentError('schema.fields must be an object');
  const fields = new Map<string, DocumentFieldSpec>();
  let dense: string | undefined;
  let sparse: string | undefined;
  const text: string[] = [];
  for (const [name, spec] of Object.entries(raw.fields)) {
    if (!FIELD_NAME.test(name) || name === '_id' || name === '__proto__') {
      throw new InvalidArgumentError(`schema field name "${name}" is not allowed (1–64 characters, not "_id", not starting with "$")`);
    }
    const field = readField(name, spec);
    if (field.kind === 'dense_vector') {
      if (dense !== undefined) throw new InvalidArgumentError('a schema may declare at most one dense_vector field');
      dense = name;
    } else if (field.kind === 'sparse_vector') {
      if (sparse !== undefined) throw new InvalidArgumentError('a schema may declare at most one sparse_vector field');
      sparse = name;
    } else if (field.kind === 'string' && field.fullTextSearch !== undefined) {
      text.push(name);
    }
    fields.set(name, field);
  }
  const schema: DocumentSchema = { fields, text, ...(dense === undefined ? {} : { dense }), ...(sparse === undefined ? {} : { sparse }) };
  parsed.set(raw, schema);
  return schema;
}

/**
 * The vector settings an index with this schema is stored with: its dense_vector field's dimension and
 * metric, else a sparse (dotproduct) index, which also holds documents with no vector at all. Explicit
 * settings must agree with the schema.
 */
export function vectorSettingsFromSchema(schema: DocumentSchema, explicit: Partial<IndexSettings>): Pick<IndexSettings, 'dimension' | 'metric' | 'vectorType'> {
  const denseField = schema.dense === undefined ? undefined : schema.fields.get(schema.dense);
  const derived =
    denseField?.kind === 'dense_vector'
      ? { dimension: denseField.dimension, metric: denseField.metric, vectorType: 'dense' as const }
      : { dimension: null, metric: 'dotproduct' as const, vectorType: 'sparse' as const };
  const merged = {
    dimension: explicit.dimension === undefined ? derived.dimension : explicit.dimension,
    metric: explicit.metric ?? derived.metric,
    // A dimension given without a vector type is a dense index, as without a schema.
    vectorType: explicit.vectorType ?? (explicit.dimension !== undefined && explicit.dimension !== null ? 'dense' : derived.vectorType),
  };
  if (merged.vectorType === 'dense' && denseField === undefined && schema.fields.size > 0 && !schema.fields.has('_values')) {
    // A vectors-API index (2026-04 create) whose schema only lists metadata fields is fine; a document
    // schema for a dense index must name its dense field.
    const onlyMetadata = [...schema.fields.values()].every((f) => f.kind === 'metadata');
    if (!onlyMetadata) throw new InvalidArgumentError('the schema of a dense index must declare its dense_vector field');
  }
  if (denseField?.kind === 'dense_vector' && (merged.vectorType !== 'dense' || merged.dimension !== denseField.dimension || merged.metric !== denseField.metric)) {
    throw new InvalidArgumentError('the dense_vector field of the schema does not match the index dimension and metric');
  }
  return merged;
}

/** JSON with object keys sorted: equal for equal schemas whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Body).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether `next` keeps every field of `previous` unchanged (fields may only be added). */
export function isSchemaExtension(previous: IndexSchema | undefined, next: IndexSchema): boolean {
  if (previous === undefined) return true;
  for (const [name, spec] of Object.entries(previous.fields)) {
    if (canonicalJson(next.fields[name]) !== canonicalJson(spec)) return false;
  }
  return true;
}
