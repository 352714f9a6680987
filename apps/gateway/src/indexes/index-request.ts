// Control-plane request bodies (snake_case, as Pinecone's REST API) turned into typed inputs, or a 400.
// Rules as at Pinecone: names of lowercase letters, digits and '-', 1–45 characters, starting and ending
// alphanumeric; dense dimension 1–20000; sparse indexes have no dimension and use dotproduct; tags of at most
// 20 keys (≤ 80 chars of letters, digits, '_' and '-') with values ≤ 120 chars, "" unsets a tag.
// Conifer hosts serverless indexes only: `pod` and `byoc` specs and integrated embedding are refused with 400.
// Options Conifer does not support are refused with a 400 naming them, never accepted and ignored
// (`read_capacity` other than OnDemand, `source_collection`). `spec.serverless.schema` (2025-10's MetadataSchema)
// is kept: only its filterable fields are indexed. This file parses the classic model (API versions up to
// 2026-04); index-schema-request.ts parses 2026-07's.
import {
  InvalidArgumentError,
  parseIndexSchema,
  parseVectorSettings,
  schemaFromVectorSettings,
  type IndexMetric,
  type IndexSchema,
  type VectorType as IndexVectorType,
} from '@conifer/contracts';

// The catalog's names for contracts' types (declared there once, shared with the store).
export type { IndexMetric, IndexVectorType };
export type IndexState = 'Initializing' | 'Ready' | 'Terminating' | 'InitializationFailed';

export interface ServerlessSpec {
  readonly serverless: { readonly cloud: string; readonly region: string };
}

export interface CreateIndexInput {
  readonly name: string;
  readonly dimension: number | null;
  readonly metric: IndexMetric;
  readonly vectorType: IndexVectorType;
  readonly spec: ServerlessSpec;
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** The whole schema in 2026-07's wire shape: vector fields (`_values`/`_sparse_values` for classic indexes) and metadata. */
  readonly schema: IndexSchema;
}

export interface ConfigureIndexInput {
  readonly deletionProtection?: boolean;
  /** Tags to merge: a value of "" removes the tag. */
  readonly tags?: Readonly<Record<string, string>>;
}

const INDEX_NAME_MAX = 45;
const MAX_TAGS = 20;
const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const TAG_KEY = /^[A-Za-z0-9_-]{1,80}$/;
const TAG_VALUE = /^[A-Za-z0-9;@_\-.+ ]{0,120}$/;
const CLOUDS = ['aws', 'gcp', 'azure'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateIndexName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError('Index name is required');
  if (name.length > INDEX_NAME_MAX) {
    throw new InvalidArgumentError(`Index name must be at most ${INDEX_NAME_MAX} characters`);
  }
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      'Index name must consist of lowercase alphanumeric characters or \'-\', and must start and end with an alphanumeric character',
    );
  }
  return name;
}

function parseDeletionProtection(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'enabled') return true;
  if (value === 'disabled') return false;
  throw new InvalidArgumentError('deletion_protection must be "enabled" or "disabled"');
}

/** Tags as given (values may be "" to unset on configure). */
function parseTags(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new InvalidArgumentError('tags must be an object of string keys and string values');
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS) throw new InvalidArgumentError(`An index can have at most ${MAX_TAGS} tags`);
  const tags: Record<string, string> = {};
  for (const [key, tagValue] of entries) {
    if (!TAG_KEY.test(key)) {
      throw new InvalidArgumentError(`Tag key "${key}" is invalid: use 1-80 letters, digits, '_' or '-'`);
    }
    if (typeof tagValue !== 'string') throw new InvalidArgumentError(`Tag "${key}" must have a string value`);
    if (!TAG_VALUE.test(tagValue)) {
      throw new InvalidArgumentError(
        `Tag "${key}" has an invalid value: use at most 120 letters, digits, spaces or ';@_-.+'`,
      );
    }
    tags[key] = tagValue;
  }
  return tags;
}

/** `read_capacity` (2025-10 and later): Conifer serves every index on demand. */
export function parseReadCapacity(value: unknown, path: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(`${path} must be an object like {"mode":"OnDemand"}`);
  const mode = (value as Record<string, unknown>).mode;
  if (mode === undefined || mode === 'OnDemand') return;
  if (mode === 'Dedicated') {
    throw new InvalidArgumentError(`${path}.mode "Dedicated" is not supported: Conifer serves every index on demand; use {"mode":"OnDemand"} or omit ${path}`);
  }
  throw new InvalidArgumentError(`${path}.mode must be "OnDemand"`);
}

function parseSpec(value: unknown): { spec: ServerlessSpec; metadataSchema?: IndexSchema } {
  if (value === undefined || value === null) {
    throw new InvalidArgumentError('spec is required, e.g. {"serverless":{"cloud":"aws","region":"us-east-1"}}');
  }
  if (!isObject(value)) throw new InvalidArgumentError('spec must be an object');
  if (value.pod !== undefined || value.byoc !== undefined) {
    throw new InvalidArgumentError('Conifer supports serverless indexes only: use spec {"serverless":{"cloud","region"}}');
  }
  const serverless = value.serverless;
  if (!isObject(serverless)) {
    throw new InvalidArgumentError('spec.serverless is required, e.g. {"serverless":{"cloud":"aws","region":"us-east-1"}}');
  }
  const { cloud, region } = serverless;
  if (typeof cloud !== 'string' || !CLOUDS.includes(cloud)) {
    throw new InvalidArgumentError('spec.serverless.cloud must be one of "aws", "gcp", "azure"');
  }
  if (typeof region !== 'string' || region.length === 0 || region.length > 64) {
    throw new InvalidArgumentError('spec.serverless.region must be a non-empty string');
  }
  if (serverless.source_collection !== undefined && serverless.source_collection !== null) {
    throw new InvalidArgumentError('spec.serverless.source_collection is not supported: Conifer has no collections');
  }
  parseReadCapacity(serverless.read_capacity, 'spec.serverless.read_capacity');
  const metadataSchema =
    serverless.schema === undefined || serverless.schema === null
      ? undefined
      : parseIndexSchema(serverless.schema, { path: 'spec.serverless.schema', vectors: false });
  return { spec: { serverless: { cloud, region } }, ...(metadataSchema === undefined ? {} : { metadataSchema }) };
}

export function parseCreateIndexRequest(body: unknown): CreateIndexInput {
  if (!isObject(body)) throw new InvalidArgumentError('Request body must be a JSON object');
  const name = validateIndexName(body.name);
  if (body.embed !== undefined && body.embed !== null) {
    throw new InvalidArgumentError('Integrated embedding is not supported: create the index with a dimension');
  }
  const { dimension, metric, vectorType } = parseVectorSettings({ dimension: body.dimension, metric: body.metric, vectorType: body.vector_type });
  const { spec, metadataSchema } = parseSpec(body.spec);
  const tags = Object.fromEntries(Object.entries(parseTags(body.tags) ?? {}).filter(([, value]) => value !== ''));
  return {
    name,
    dimension,
    metric,
    vectorType,
    spec,
    deletionProtection: parseDeletionProtection(body.deletion_protection) ?? false,
    tags,
    schema: schemaFromVectorSettings({ dimension, metric, vectorType }, metadataSchema),
  };
}

export function parseConfigureIndexRequest(body: unknown): ConfigureIndexInput {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw new InvalidArgumentError('Request body must be a JSON object');
  if (body.embed !== undefined && body.embed !== null) {
    throw new InvalidArgumentError('Integrated embedding is not supported');
  }
  if (body.spec !== undefined && body.spec !== null) {
    // Serverless capacity settings have nothing to change here (always on demand); pod resizing does not exist.
    if (!isObject(body.spec) || body.spec.pod !== undefined || body.spec.byoc !== undefined) {
      throw new InvalidArgumentError('Conifer supports serverless indexes only: a pod spec cannot be configured');
    }
    const serverless = body.spec.serverless;
    if (serverless !== undefined && serverless !== null) {
      if (!isObject(serverless)) throw new InvalidArgumentError('spec.serverless must be an object');
      parseReadCapacity(serverless.read_capacity, 'spec.serverless.read_capacity');
    }
  }
  const deletionProtection = parseDeletionProtection(body.deletion_protection);
  const tags = parseTags(body.tags);
  return {
    ...(deletionProtection === undefined ? {} : { deletionProtection }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/** Tags after a configure call: given keys replace, "" removes. */
export function mergeTags(current: Readonly<Record<string, string>>, update: Readonly<Record<string, string>>): Record<string, string> {
  const merged: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === '') delete merged[key];
    else merged[key] = value;
  }
  if (Object.keys(merged).length > MAX_TAGS) throw new InvalidArgumentError(`An index can have at most ${MAX_TAGS} tags`);
  return merged;
}
