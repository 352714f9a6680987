// What `npm install @pinecone-database/pinecone` gives a new user today: client 9.0.0, which speaks API version
// 2026-07 (the schema index model). Driven unmodified, configured with nothing but apiKey and
// controllerHostUrl, through the index lifecycle in the new model, vectors, namespaces with schemas and errors
// as the client's own classes; the same index is also read by client 8.2 in the classic shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Pinecone as Pinecone8 } from '@pinecone-database/pinecone';
import { Errors, Pinecone } from 'pinecone9';
import { startSystem, type System } from '@conifer/test-utils';

const { PineconeAuthorizationError, PineconeBadRequestError, PineconeConflictError, PineconeNotFoundError } = Errors;

const DIMENSION = 8;

function vector(seed: number): number[] {
  return Array.from({ length: DIMENSION }, (_, i) => Math.round(Math.sin(seed * 7 + i * 3) * 100) / 100);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to be refused');
}

describe('official Pinecone TypeScript client 9.0.0 (API 2026-07) against Conifer', () => {
  let system: System;
  let projectId: string;
  let apiKey: string;
  let pc: Pinecone;
  const legacyName = 'e2e9-legacy';
  const nativeName = 'e2e9-native';
  const sparseName = 'e2e9-sparse';

  beforeAll(async () => {
    system = await startSystem();
    projectId = await system.defaultProjectId();
    apiKey = (await system.mintKey(projectId, ['ProjectEditor'])).value;
    pc = new Pinecone({ apiKey, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
  });

  afterAll(async () => {
    await system?.stop();
  });

  it('creates a dense index the classic way (the client translates it to a schema) and waits until ready', async () => {
    const created = await pc.createIndex({
      name: legacyName,
      dimension: DIMENSION,
      metric: 'cosine',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
      waitUntilReady: true,
    });
    expect(created?.status.ready).toBe(true);
    const described = await pc.describeIndex(legacyName);
    expect(described.deployment).toEqual({ deploymentType: 'managed', cloud: 'aws', region: 'us-east-1' });
    expect(described.schema.fields['_values']).toEqual({ type: 'dense_vector', dimension: DIMENSION, metric: 'cosine' });
    expect(described.readCapacity).toMatchObject({ mode: 'OnDemand', status: { state: 'Ready' } });
    expect(described.host).toBe(`${system.gatewayUrl}/data/${projectId}/${legacyName}`);
    // The client's legacy accessors (the TypeError of issue 19) read the new shape.
    expect(described.dimension).toBe(DIMENSION);
    expect(described.metric).toBe('cosine');
    expect(described.vectorType).toBe('dense');
  });

  it('creates indexes in the native 2026-07 shape with deployment, schema (metadata fields too), tags and protection', async () => {
    const native = await pc.indexes.create({
      name: nativeName,
      deployment: { deploymentType: 'managed', cloud: 'aws', region: 'us-west-2' },
      schema: {
        fields: {
          _values: { type: 'dense_vector', dimension: DIMENSION, metric: 'dotproduct' },
          // Metadata field types are part of the wire schema; client 9's request type lists only ranking fields.
          genre: { type: 'string', filterable: true } as never,
        },
      },
      tags: { team: 'search' },
      deletionProtection: 'enabled',
      waitUntilReady: true,
    });
    expect(native.schema.fields['genre']).toEqual({ type: 'string', filterable: true });
    expect(native.deletionProtection).toBe('enabled');
    expect(native.tags).toEqual({ team: 'search' });

    await pc.indexes.create({ name: sparseName, schema: { fields: { _sparse_values: { type: 'sparse_vector' } } }, waitUntilReady: true });
    const sparse = await pc.indexes.describe(sparseName);
    expect(sparse.vectorType).toBe('sparse');
    expect(sparse.deployment).toMatchObject({ deploymentType: 'managed', cloud: 'aws', region: 'us-east-1' });

    const listed = await pc.listIndexes();
    expect(listed.indexes?.map((i) => i.name).sort()).toEqual([legacyName, nativeName, sparseName].sort());
    expect(listed.indexes?.every((i) => i.deployment.deploymentType === 'managed')).toBe(true);
  });

  it('shows the same index to client 8.2 in the classic shape', async () => {
    const pc8 = new Pinecone8({ apiKey, controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    const classic = await pc8.describeIndex(nativeName);
    expect(classic.dimension).toBe(DIMENSION);
    expect(classic.metric).toBe('dotproduct');
    expect(classic.vectorType).toBe('dense');
    expect(classic.spec).toMatchObject({ serverless: { cloud: 'aws', region: 'us-west-2' } });
    expect(classic.deletionProtection).toBe('enabled');
    expect((await pc8.listIndexes()).indexes?.map((i) => i.name).sort()).toEqual([legacyName, nativeName, sparseName].sort());
    // And an index created by 8.2 is read by 9.0 in the new shape.
    await pc8.createIndex({ name: 'e2e9-from-8', dimension: 4, metric: 'euclidean', spec: { serverless: { cloud: 'gcp', region: 'europe-west4' } }, waitUntilReady: true });
    const seen = await pc.describeIndex('e2e9-from-8');
    expect(seen.schema.fields['_values']).toEqual({ type: 'dense_vector', dimension: 4, metric: 'euclidean' });
    expect(seen.deployment).toMatchObject({ deploymentType: 'managed', cloud: 'gcp', region: 'europe-west4' });
    await pc.deleteIndex('e2e9-from-8');
  });

  it('configures tags and deletion protection, and refuses options Conifer does not support with a 400 naming them', async () => {
    const configured = await pc.configureIndex({ name: nativeName, tags: { stage: 'e2e', team: '' }, readCapacity: { mode: 'OnDemand' } });
    expect(configured.tags).toEqual({ stage: 'e2e' });

    const dedicated = await refusal(
      pc.configureIndex({ name: nativeName, readCapacity: { mode: 'Dedicated', dedicated: { nodeType: 'b1', scaling: 'Manual', manual: { replicas: 1, shards: 1 } } } }),
    );
    expect(dedicated).toBeInstanceOf(PineconeBadRequestError);
    expect(dedicated.message).toMatch(/Dedicated/);

    const byoc = await refusal(
      pc.indexes.create({
        name: 'e2e9-byoc',
        deployment: { deploymentType: 'byoc', environment: 'aws-us-east-1-b921' },
        schema: { fields: { _values: { type: 'dense_vector', dimension: 4, metric: 'cosine' } } },
        readCapacity: { mode: 'Dedicated', dedicated: { nodeType: 'b1', scaling: 'Manual', manual: { replicas: 1, shards: 1 } } },
      }),
    );
    expect(byoc).toBeInstanceOf(PineconeBadRequestError);
    expect(byoc.message).toMatch(/byoc/);

    // Client 9 cannot serialise a semantic_text field into a create request; curl can.
    const semantic = await fetch(`${system.gatewayUrl}/indexes`, {
      method: 'POST',
      headers: { 'Api-Key': apiKey, 'Content-Type': 'application/json', 'X-Pinecone-Api-Version': '2026-07' },
      body: JSON.stringify({ name: 'e2e9-semantic', schema: { fields: { text: { type: 'semantic_text', model: 'llama-text-embed-v2' } } } }),
    });
    expect(semantic.status).toBe(400);
    expect(await semantic.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: expect.stringMatching(/embedding model/) }, status: 400 });
    const unknownVersion = await fetch(`${system.gatewayUrl}/indexes`, { headers: { 'Api-Key': apiKey, 'X-Pinecone-Api-Version': '2031-01' } });
    expect(unknownVersion.status).toBe(400);
    expect(((await unknownVersion.json()) as { error: { message: string } }).error.message).toMatch(/supported versions: .*2026-07/);

    const duplicate = await refusal(pc.indexes.create({ name: legacyName, schema: { fields: { _values: { type: 'dense_vector', dimension: 4, metric: 'cosine' } } } }));
    expect(duplicate).toBeInstanceOf(PineconeConflictError);
    expect(await refusal(pc.describeIndex('e2e9-missing'))).toBeInstanceOf(PineconeNotFoundError);
    const stranger = new Pinecone({ apiKey: 'pcsk_nope_x', controllerHostUrl: system.gatewayUrl, maxRetries: 1 });
    expect(await refusal(stranger.listIndexes())).toBeInstanceOf(PineconeAuthorizationError);
  });

  it('upserts, queries with filters, fetches, updates and describes through pc.index(name)', async () => {
    const index = pc.index(nativeName);
    const records = Array.from({ length: 10 }, (_, i) => ({
      id: `doc-${i}`,
      values: vector(i),
      metadata: { genre: i % 2 === 0 ? 'drama' : 'comedy', year: 2000 + i },
    }));
    await index.upsert({ records });
    const fetched = await index.fetch({ ids: ['doc-1'] });
    expect(fetched.records['doc-1']!.values).toEqual(vector(1));
    const top = await index.query({ vector: vector(3), topK: 3, includeMetadata: true });
    expect(top.matches[0]!.id).toBe('doc-3');
    // genre is declared filterable; year is not indexed, and a filter on it is still answered exactly.
    const drama = await index.query({ vector: vector(3), topK: 10, filter: { genre: 'drama' } });
    expect(drama.matches.map((m) => m.id).sort()).toEqual(['doc-0', 'doc-2', 'doc-4', 'doc-6', 'doc-8']);
    const recent = await index.query({ vector: vector(3), topK: 10, filter: { year: { $gte: 2007 } } });
    expect(recent.matches.map((m) => m.id).sort()).toEqual(['doc-7', 'doc-8', 'doc-9']);
    await index.update({ id: 'doc-1', metadata: { genre: 'drama' } });
    const again = await index.query({ vector: vector(3), topK: 10, filter: { genre: 'drama' } });
    expect(again.matches).toHaveLength(6);
    const stats = await index.describeIndexStats();
    expect(stats.dimension).toBe(DIMENSION);
    expect(stats.totalRecordCount).toBe(10);

    const sparse = pc.index(sparseName);
    await sparse.upsert({ records: [{ id: 's1', sparseValues: { indices: [1, 5], values: [0.5, 2] } }, { id: 's2', sparseValues: { indices: [5], values: [1] } }] });
    // Like 8.2, 9.0's types demand `vector` or `id` while its runtime sends a sparse-only query as it is.
    const sparseTop = await sparse.query({ sparseVector: { indices: [5], values: [1] }, topK: 2 } as never);
    expect(sparseTop.matches.map((m) => m.id)).toEqual(['s1', 's2']);
  });

  it('creates a namespace with a metadata schema, echoes it and indexes only its fields', async () => {
    const index = pc.index(nativeName);
    const created = await index.createNamespace({ name: 'by-year', schema: { fields: { year: { filterable: true } } } });
    expect(created.name).toBe('by-year');
    expect(created.schema).toEqual({ fields: { year: { filterable: true } } });
    await index.namespace('by-year').upsert({
      records: [
        { id: 'a', values: vector(1), metadata: { year: 1999, genre: 'drama' } },
        { id: 'b', values: vector(2), metadata: { year: 2024, genre: 'comedy' } },
      ],
    });
    const described = await index.describeNamespace('by-year');
    expect(described.schema).toEqual({ fields: { year: { filterable: true } } });
    expect(described.indexedFields?.fields).toEqual(['year']);
    expect(Number(described.recordCount)).toBe(2);
    const old = await index.namespace('by-year').query({ vector: vector(1), topK: 5, filter: { year: { $lt: 2000 } } });
    expect(old.matches.map((m) => m.id)).toEqual(['a']);
    const comedy = await index.namespace('by-year').query({ vector: vector(1), topK: 5, filter: { genre: 'comedy' } });
    expect(comedy.matches.map((m) => m.id)).toEqual(['b']);

    const bad = await refusal(index.createNamespace({ name: 'bad', schema: { fields: { year: { filterable: false } } } }));
    expect(bad).toBeInstanceOf(PineconeBadRequestError);
    expect(bad.message).toMatch(/filterable/);
    const names = (await index.listNamespaces()).namespaces?.map((n) => n.name).sort();
    expect(names).toEqual(['__default__', 'by-year']);
    await index.deleteNamespace('by-year');
    expect(await refusal(index.describeNamespace('by-year'))).toBeInstanceOf(PineconeNotFoundError);
  });

  it('keeps a protected index until protection is disabled, then deletes it', async () => {
    const refused = await refusal(pc.deleteIndex(nativeName));
    expect(refused).toBeInstanceOf(PineconeBadRequestError);
    expect(refused.message).toMatch(/[Dd]eletion protection/);
    const unprotected = await pc.configureIndex({ name: nativeName, deletionProtection: 'disabled' });
    expect(unprotected.deletionProtection).toBe('disabled');
    for (const name of [nativeName, legacyName, sparseName]) await pc.deleteIndex(name);
    expect(await refusal(pc.describeIndex(nativeName))).toBeInstanceOf(PineconeNotFoundError);
    expect((await pc.listIndexes()).indexes ?? []).toEqual([]);
  });
});
