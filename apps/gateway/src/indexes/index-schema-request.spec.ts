import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { parseConfigureIndexRequest202607, parseCreateIndexRequest202607 } from './index-schema-request.js';

const deployment = { deployment_type: 'managed', cloud: 'aws', region: 'us-west-2' };
const dense = { _values: { type: 'dense_vector', dimension: 8, metric: 'cosine' } };

function rejects(run: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).httpStatus).toBe(400);
  expect((error as Error).message).toMatch(message);
}

describe('POST /indexes in API version 2026-07', () => {
  it('reads what the 9.x client sends for a dense index', () => {
    expect(parseCreateIndexRequest202607({ name: 'docs', deployment, schema: { fields: dense }, tags: { team: 'x' }, deletion_protection: 'enabled' })).toEqual({
      name: 'docs',
      dimension: 8,
      metric: 'cosine',
      vectorType: 'dense',
      spec: { serverless: { cloud: 'aws', region: 'us-west-2' } },
      deletionProtection: true,
      tags: { team: 'x' },
      schema: { fields: dense },
    });
  });

  it('reads a sparse index, defaults the deployment to aws/us-east-1 and accepts OnDemand read capacity', () => {
    expect(parseCreateIndexRequest202607({ name: 's', schema: { fields: { _sparse_values: { type: 'sparse_vector' } } }, read_capacity: { mode: 'OnDemand' } })).toMatchObject({
      dimension: null,
      metric: 'dotproduct',
      vectorType: 'sparse',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
    });
  });

  it('keeps typed metadata fields (filterable unless said otherwise) and legacy {filterable:true} fields', () => {
    const parsed = parseCreateIndexRequest202607({
      name: 'docs',
      schema: {
        fields: {
          ...dense,
          genre: { type: 'string', filterable: true },
          year: { type: 'integer' },
          price: { type: 'float', filterable: false },
          tags: { type: 'string_list' },
          live: { type: 'boolean' },
          legacy: { filterable: true },
        },
      },
    });
    expect(parsed.schema.fields).toMatchObject({
      genre: { type: 'string', filterable: true },
      year: { type: 'integer', filterable: true },
      price: { type: 'float', filterable: false },
      tags: { type: 'string_list', filterable: true },
      live: { type: 'boolean', filterable: true },
      legacy: { filterable: true },
    });
  });

  it.each([
    [{ deployment: { deployment_type: 'pod', environment: 'us-east1-gcp', pod_type: 'p1.x1' } }, /deployment_type "pod" is not supported/],
    [{ deployment: { deployment_type: 'byoc', environment: 'aws-us-east-1-b921' } }, /deployment_type "byoc" is not supported/],
    [{ read_capacity: { mode: 'Dedicated', dedicated: { node_type: 'b1', scaling: 'Manual', manual: { replicas: 1, shards: 1 } } } }, /read_capacity.mode "Dedicated" is not supported/],
    [{ cmek_id: 'k' }, /cmek_id is not supported/],
    [{ dimension: 8 }, /dimension is not part of API version 2026-07/],
    [{ spec: { serverless: { cloud: 'aws', region: 'us-east-1' } } }, /spec is not part of API version 2026-07/],
  ])('400 naming the unsupported option %#', (extra, message) => {
    rejects(() => parseCreateIndexRequest202607({ name: 'docs', schema: { fields: dense }, ...extra }), message);
  });

  it.each([
    [undefined, /schema is required/],
    [{ fields: {} }, /must declare a dense_vector/],
    [{ fields: { genre: { type: 'string' } } }, /must declare a dense_vector/],
    [{ fields: { _values: { type: 'dense_vector', metric: 'cosine' } } }, /schema.fields._values.dimension/],
    [{ fields: { _values: { type: 'dense_vector', dimension: 20001 } } }, /dimension/],
    [{ fields: { _values: { type: 'dense_vector', dimension: 8, metric: 'hamming' } } }, /metric/],
    [{ fields: { _values: { type: 'sparse_vector' } } }, /reserved for a dense_vector/],
    [{ fields: { _sparse_values: { type: 'dense_vector', dimension: 8 } } }, /reserved for a sparse_vector/],
    [{ fields: { ...dense, e: { type: 'dense_vector', dimension: 8 } } }, /at most one dense_vector|cannot be mixed/],
    [{ fields: { ...dense, text: { type: 'semantic_text', model: 'llama-text-embed-v2' } } }, /semantic_text.*embedding model/],
    [{ fields: { ...dense, x: { type: 'date' } } }, /type must be one of/],
    [{ fields: { ...dense, x: { filterable: false } } }, /only \{"filterable": true\}/],
    [{ fields: { ...dense, $x: { type: 'string' } } }, /must not start with '\$'/],
    [{ fields: { ...dense, x: { type: 'float', ngram: 3 } } }, /"ngram" is not supported/],
  ])('400 for the schema %#', (schema, message) => {
    rejects(() => parseCreateIndexRequest202607({ name: 'docs', schema }), message);
  });

  it('accepts a documents index of named fields with full-text search', () => {
    const parsed = parseCreateIndexRequest202607({
      name: 'articles',
      schema: { fields: { body: { type: 'string', full_text_search: { stemming: true } }, embedding: { type: 'dense_vector', dimension: 4, metric: 'dotproduct' } } },
    });
    expect(parsed.schema.fields.body).toEqual({ type: 'string', full_text_search: { language: 'en', stemming: true, stop_words: false }, filterable: false });
    expect(parsed).toMatchObject({ dimension: 4, metric: 'dotproduct', vectorType: 'dense' });
  });
});

describe('PATCH /indexes/{name} in API version 2026-07', () => {
  it('reads deletion protection, tags and OnDemand read capacity', () => {
    expect(parseConfigureIndexRequest202607({ deletion_protection: 'enabled', tags: { a: '' }, read_capacity: { mode: 'OnDemand' } })).toEqual({
      deletionProtection: true,
      tags: { a: '' },
    });
  });

  it.each([
    [{ read_capacity: { mode: 'Dedicated', dedicated: { node_type: 't1' } } }, /Dedicated/],
    [{ schema: { fields: { text: { type: 'semantic_text', model: 'm' } } } }, /schema cannot be changed/],
    [{ deployment: { replicas: 2 } }, /pod indexes/],
    [{ spec: { pod: { replicas: 2 } } }, /spec is not part of API version 2026-07/],
  ])('400 naming the unsupported option %#', (body, message) => {
    rejects(() => parseConfigureIndexRequest202607(body), message);
  });
});
