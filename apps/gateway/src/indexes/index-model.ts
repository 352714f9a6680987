// The catalog's view of an index and its rendering as Pinecone's IndexModel (DESIGN §3). Clients decode it
// strictly: dimension is omitted (not null) for sparse indexes, tags are strings, spec.serverless carries
// read_capacity (the Python client 8 refuses the model without it), status.ready turns true with "Ready".
// Two shapes of one record: the classic IndexModel (API versions up to 2026-04: dimension, metric, spec,
// vector_type; declared metadata fields as spec.serverless.schema) and 2026-07's (deployment, schema.fields,
// read_capacity), so an 8.x and a 9.x client see the same index.
import { metadataSchemaOf, type IndexModelShape, type IndexSchema } from '@conifer/contracts';
import type { IndexMetric, IndexState, IndexVectorType, ServerlessSpec } from './index-request.js';

export interface IndexRecord {
  readonly id: string;
  readonly projectId: string;
  readonly name: string;
  readonly dimension: number | null;
  readonly metric: IndexMetric;
  readonly vectorType: IndexVectorType;
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly spec: ServerlessSpec;
  /** The whole schema (vector and metadata fields) in 2026-07's wire shape. */
  readonly schema: IndexSchema;
  readonly state: IndexState;
  /** Where the index lives: one replica per node (never rendered: Pinecone's serverless model has no replicas). */
  readonly replicas: readonly ReplicaRecord[];
  readonly createdAt: Date;
}

/**
 * creating: placed by repair and being created on its node (not routed to yet); active: serving; leaving: on a
 * draining node, still serving until its replacement has caught up.
 */
export type ReplicaState = 'creating' | 'active' | 'leaving';

export interface ReplicaRecord {
  readonly nodeId: string;
  readonly state: ReplicaState;
}

export interface IndexModel {
  name: string;
  dimension?: number;
  metric: IndexMetric;
  host: string;
  spec: {
    serverless: {
      cloud: string;
      region: string;
      read_capacity: { mode: 'OnDemand'; status: { state: 'Ready' } };
      schema?: { fields: Record<string, { filterable: boolean }> };
    };
  };
  status: { ready: boolean; state: IndexState };
  deletion_protection: 'enabled' | 'disabled';
  tags: Record<string, string>;
  vector_type: IndexVectorType;
}

/** IndexModel of API version 2026-07 (the 9.x client's generated IndexModel). */
interface IndexModel202607 {
  name: string;
  host: string;
  status: { ready: boolean; state: IndexState };
  deployment: { deployment_type: 'managed'; cloud: string; region: string };
  read_capacity: { mode: 'OnDemand'; status: { state: 'Ready' } };
  schema: IndexSchema;
  tags: Record<string, string>;
  deletion_protection: 'enabled' | 'disabled';
}

export type AnyIndexModel = IndexModel | IndexModel202607 | (IndexModel & IndexModel202607);

export function renderIndexModelAs(shape: IndexModelShape, index: IndexRecord, host: string): AnyIndexModel {
  if (shape === 'schema') return renderIndexModel202607(index, host);
  if (shape === 'classic') return renderIndexModel(index, host);
  // No version header: the newest shape, plus the classic fields for callers written before 2026-07.
  return { ...renderIndexModel(index, host), ...renderIndexModel202607(index, host) };
}

function renderIndexModel202607(index: IndexRecord, host: string): IndexModel202607 {
  return {
    name: index.name,
    host,
    status: { ready: index.state === 'Ready', state: index.state },
    deployment: { deployment_type: 'managed', cloud: index.spec.serverless.cloud, region: index.spec.serverless.region },
    read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
    schema: { fields: { ...index.schema.fields } },
    tags: { ...index.tags },
    deletion_protection: index.deletionProtection ? 'enabled' : 'disabled',
  };
}

export function renderIndexModel(index: IndexRecord, host: string): IndexModel {
  const metadataSchema = metadataSchemaOf(index.schema);
  return {
    name: index.name,
    ...(index.dimension === null ? {} : { dimension: index.dimension }),
    metric: index.metric,
    host,
    spec: {
      serverless: {
        cloud: index.spec.serverless.cloud,
        region: index.spec.serverless.region,
        read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } },
        ...(metadataSchema === undefined ? {} : { schema: metadataSchema }),
      },
    },
    status: { ready: index.state === 'Ready', state: index.state },
    deletion_protection: index.deletionProtection ? 'enabled' : 'disabled',
    tags: { ...index.tags },
    vector_type: index.vectorType,
  };
}
