// Control-plane request bodies of API version 2026-07 (the schema model), read from the 9.x client's
// CreateIndexRequest / ConfigureIndexRequest and Pinecone's reference:
//   POST /indexes  {name, deployment?, schema, read_capacity?, deletion_protection?, tags?, cmek_id?}
//   PATCH /indexes/{name}  {deletion_protection?, tags?, read_capacity?, schema?, deployment?}
// `deployment` omitted means managed on aws/us-east-1; `pod` and `byoc` are refused. The classic fields
// (`dimension`, `metric`, `vector_type`, `spec`) are not part of 2026-07 and are refused with a 400 saying what to
// send instead. The schema is parsed by the contracts' parseIndexSchema; the vector settings the store needs
// (dimension, metric, vector type) follow from its vector field.
import { InvalidArgumentError, parseIndexSchema, vectorSettingsOfSchema } from '@conifer/contracts';
import {
  parseConfigureIndexRequest,
  parseReadCapacity,
  validateIndexName,
  type ConfigureIndexInput,
  type CreateIndexInput,
  type ServerlessSpec,
} from './index-request.js';

const CLOUDS = ['aws', 'gcp', 'azure'];
const CLASSIC_FIELDS = ['dimension', 'metric', 'vector_type', 'spec'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseDeployment(value: unknown): ServerlessSpec {
  if (value === undefined || value === null) return { serverless: { cloud: 'aws', region: 'us-east-1' } };
  if (!isObject(value)) throw new InvalidArgumentError('deployment must be an object like {"deployment_type":"managed","cloud":"aws","region":"us-east-1"}');
  const type = value.deployment_type;
  if (type === 'pod' || type === 'byoc') {
    throw new InvalidArgumentError(`deployment_type "${type}" is not supported: Conifer hosts managed (serverless) indexes only; use {"deployment_type":"managed","cloud":"aws","region":"us-east-1"}`);
  }
  if (type !== 'managed') throw new InvalidArgumentError('deployment.deployment_type must be "managed"');
  const { cloud, region } = value;
  if (typeof cloud !== 'string' || !CLOUDS.includes(cloud)) {
    throw new InvalidArgumentError('deployment.cloud must be one of "aws", "gcp", "azure"');
  }
  if (typeof region !== 'string' || region.length === 0 || region.length > 64) {
    throw new InvalidArgumentError('deployment.region must be a non-empty string');
  }
  return { serverless: { cloud, region } };
}

function refuseClassicFields(body: Record<string, unknown>): void {
  const given = CLASSIC_FIELDS.filter((field) => body[field] !== undefined && body[field] !== null);
  if (given.length > 0) {
    throw new InvalidArgumentError(
      `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} not part of API version 2026-07: declare the vector field in schema.fields ` +
        '(e.g. {"_values":{"type":"dense_vector","dimension":1536,"metric":"cosine"}}) and the location in deployment, ' +
        'or send X-Pinecone-Api-Version: 2026-04 for the classic model',
    );
  }
}

export function parseCreateIndexRequest202607(body: unknown): CreateIndexInput {
  if (!isObject(body)) throw new InvalidArgumentError('Request body must be a JSON object');
  const name = validateIndexName(body.name);
  refuseClassicFields(body);
  if (body.embed !== undefined && body.embed !== null) {
    throw new InvalidArgumentError('Integrated embedding is not supported: declare a dense_vector field and upsert your own vectors');
  }
  if (body.cmek_id !== undefined && body.cmek_id !== null) {
    throw new InvalidArgumentError('cmek_id is not supported: Conifer does not use customer-managed encryption keys');
  }
  if (body.source_collection !== undefined || body.source_backup_id !== undefined) {
    throw new InvalidArgumentError('Creating an index from a collection or backup is not supported');
  }
  if (body.schema === undefined || body.schema === null) {
    throw new InvalidArgumentError('schema is required, e.g. {"fields":{"_values":{"type":"dense_vector","dimension":1536,"metric":"cosine"}}}');
  }
  const schema = parseIndexSchema(body.schema, { path: 'schema', vectors: true });
  const vectors = vectorSettingsOfSchema(schema);
  const fullText = Object.values(schema.fields).some((field) => 'full_text_search' in field && field.full_text_search !== undefined);
  if (vectors === null && !fullText) {
    throw new InvalidArgumentError(
      'schema.fields must declare a dense_vector, a sparse_vector or a string field with full_text_search (metadata fields alone cannot be searched)',
    );
  }
  const spec = parseDeployment(body.deployment);
  parseReadCapacity(body.read_capacity, 'read_capacity');
  // Tags and deletion protection are read exactly as in the classic model.
  const common = parseConfigureIndexRequest({ deletion_protection: body.deletion_protection, tags: body.tags });
  return {
    name,
    // A documents index ranked by full text only has no vector field: the store's vector part is then an empty
    // sparse index (the documents API is what reads and writes it).
    ...(vectors ?? { dimension: null, metric: 'dotproduct' as const, vectorType: 'sparse' as const }),
    spec,
    deletionProtection: common.deletionProtection ?? false,
    tags: Object.fromEntries(Object.entries(common.tags ?? {}).filter(([, value]) => value !== '')),
    schema,
  };
}

export function parseConfigureIndexRequest202607(body: unknown): ConfigureIndexInput {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw new InvalidArgumentError('Request body must be a JSON object');
  if (body.spec !== undefined && body.spec !== null) {
    throw new InvalidArgumentError('spec is not part of API version 2026-07: use read_capacity, tags and deletion_protection');
  }
  if (body.embed !== undefined && body.embed !== null) throw new InvalidArgumentError('Integrated embedding is not supported');
  if (body.deployment !== undefined && body.deployment !== null) {
    throw new InvalidArgumentError('deployment (pod replicas and pod_type) applies to pod indexes, which Conifer does not host');
  }
  if (body.schema !== undefined && body.schema !== null) {
    // PatchIndexSchema only adds or changes semantic_text fields, which need a hosted embedding model.
    throw new InvalidArgumentError(
      'schema cannot be changed: the only schema change Pinecone allows is to semantic_text fields, which need a hosted embedding model that Conifer does not provide',
    );
  }
  parseReadCapacity(body.read_capacity, 'read_capacity');
  return parseConfigureIndexRequest({ deletion_protection: body.deletion_protection, tags: body.tags });
}
