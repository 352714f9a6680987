// The catalog's view of an index and its rendering as Pinecone's IndexModel (DESIGN §3). Clients decode it
// strictly: dimension is omitted (not null) for sparse indexes, tags are strings, spec.serverless carries
// read_capacity (the Python client 8 refuses the model without it), status.ready turns true with "Ready".
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
  readonly state: IndexState;
  readonly nodeId: string;
  readonly createdAt: Date;
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
    };
  };
  status: { ready: boolean; state: IndexState };
  deletion_protection: 'enabled' | 'disabled';
  tags: Record<string, string>;
  vector_type: IndexVectorType;
}

export function renderIndexModel(index: IndexRecord, host: string): IndexModel {
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
      },
    },
    status: { ready: index.state === 'Ready', state: index.state },
    deletion_protection: index.deletionProtection ? 'enabled' : 'disabled',
    tags: { ...index.tags },
    vector_type: index.vectorType,
  };
}
