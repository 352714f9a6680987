import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { mergeTags, parseConfigureIndexRequest, parseCreateIndexRequest, validateIndexName } from './index-request.js';

const spec = { serverless: { cloud: 'aws', region: 'us-east-1' } };

function rejects(body: unknown, message: RegExp): void {
  let error: unknown;
  try {
    parseCreateIndexRequest(body);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).httpStatus).toBe(400);
  expect((error as Error).message).toMatch(message);
}

describe('index names', () => {
  it.each(['a', 'docs', 'my-index-2', '0abc', 'a'.repeat(45)])('accepts %s', (name) => {
    expect(validateIndexName(name)).toBe(name);
  });
  it.each(['', 'Docs', '-docs', 'docs-', 'my_index', 'my.index', 'a'.repeat(46), 'ümlaut', 'a b'])('400 for "%s"', (name) => {
    expect(() => validateIndexName(name)).toThrow(InvalidArgumentError);
  });
  it('400 for a name that is not a string', () => {
    expect(() => validateIndexName(42)).toThrow(InvalidArgumentError);
  });
});

describe('parseCreateIndexRequest', () => {
  it('applies Pinecone defaults for dense indexes', () => {
    expect(parseCreateIndexRequest({ name: 'docs', dimension: 8, spec })).toEqual({
      name: 'docs',
      dimension: 8,
      metric: 'cosine',
      vectorType: 'dense',
      spec,
      deletionProtection: false,
      tags: {},
      schema: { fields: { _values: { type: 'dense_vector', dimension: 8, metric: 'cosine' } } },
    });
  });

  it('keeps spec.serverless.schema (2025-10 MetadataSchema) as declared metadata fields', () => {
    const parsed = parseCreateIndexRequest({
      name: 'docs',
      dimension: 8,
      spec: { serverless: { ...spec.serverless, schema: { fields: { genre: { filterable: true } } } } },
    });
    expect(parsed.schema.fields).toEqual({
      _values: { type: 'dense_vector', dimension: 8, metric: 'cosine' },
      genre: { filterable: true },
    });
  });

  it.each([
    [{ serverless: { ...spec.serverless, read_capacity: { mode: 'Dedicated', dedicated: { node_type: 'b1' } } } }, /read_capacity.mode "Dedicated" is not supported/],
    [{ serverless: { ...spec.serverless, schema: { fields: { genre: { filterable: false } } } } }, /spec.serverless.schema.fields.genre.*filterable/],
    [{ serverless: { ...spec.serverless, source_collection: 'c' } }, /source_collection is not supported/],
  ])('400 naming an unsupported option in spec %#', (badSpec, message) => {
    rejects({ name: 'docs', dimension: 8, spec: badSpec }, message);
  });

  it('400 for a configure asking for dedicated read capacity', () => {
    expect(() => parseConfigureIndexRequest({ spec: { serverless: { read_capacity: { mode: 'Dedicated' } } } })).toThrow(/Dedicated/);
  });

  it('takes every field and keeps only the serverless cloud and region', () => {
    const parsed = parseCreateIndexRequest({
      name: 'docs',
      dimension: 20000,
      metric: 'euclidean',
      vector_type: 'dense',
      spec: { serverless: { cloud: 'gcp', region: 'europe-west4', read_capacity: { mode: 'OnDemand' } } },
      deletion_protection: 'enabled',
      tags: { env: 'prod', team: 'search ml', empty: '' },
    });
    expect(parsed).toMatchObject({ metric: 'euclidean', deletionProtection: true, tags: { env: 'prod', team: 'search ml' } });
    expect(parsed.spec).toEqual({ serverless: { cloud: 'gcp', region: 'europe-west4' } });
  });

  it('makes sparse indexes dimensionless dotproduct indexes', () => {
    expect(parseCreateIndexRequest({ name: 's', vector_type: 'sparse', spec })).toMatchObject({
      dimension: null,
      metric: 'dotproduct',
      vectorType: 'sparse',
    });
    rejects({ name: 's', vector_type: 'sparse', metric: 'cosine', spec }, /dotproduct/);
    rejects({ name: 's', vector_type: 'sparse', dimension: 3, spec }, /no dimension/);
  });

  it('400 for bad dimensions, metrics, vector types', () => {
    rejects({ name: 'd', spec }, /dimension is required/);
    rejects({ name: 'd', dimension: 0, spec }, /1 to 20000/);
    rejects({ name: 'd', dimension: 20001, spec }, /1 to 20000/);
    rejects({ name: 'd', dimension: 1.5, spec }, /integer/);
    rejects({ name: 'd', dimension: '8', spec }, /integer/);
    rejects({ name: 'd', dimension: 8, metric: 'manhattan', spec }, /metric/);
    rejects({ name: 'd', dimension: 8, vector_type: 'hybrid', spec }, /vector_type/);
  });

  it('400 for missing or non-serverless specs', () => {
    rejects({ name: 'd', dimension: 8 }, /spec is required/);
    rejects({ name: 'd', dimension: 8, spec: { pod: { environment: 'us-east1-gcp', pod_type: 'p1.x1' } } }, /serverless indexes only/);
    rejects({ name: 'd', dimension: 8, spec: { serverless: { region: 'us-east-1' } } }, /cloud/);
    rejects({ name: 'd', dimension: 8, spec: { serverless: { cloud: 'aws' } } }, /region/);
  });

  it('400 for bad deletion protection and tags', () => {
    rejects({ name: 'd', dimension: 8, spec, deletion_protection: true }, /deletion_protection/);
    rejects({ name: 'd', dimension: 8, spec, tags: ['a'] }, /tags must be an object/);
    rejects({ name: 'd', dimension: 8, spec, tags: { 'bad key': 'v' } }, /Tag key/);
    rejects({ name: 'd', dimension: 8, spec, tags: { k: 'x'.repeat(121) } }, /invalid value/);
    rejects({ name: 'd', dimension: 8, spec, tags: { k: 1 } }, /string value/);
    rejects({ name: 'd', dimension: 8, spec, tags: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v'])) }, /at most 20/);
  });

  it('400 for bodies that are not objects', () => {
    rejects(undefined, /JSON object/);
    rejects([], /JSON object/);
    rejects('docs', /JSON object/);
  });
});

describe('configure', () => {
  it('parses deletion protection and tags, ignores serverless capacity settings', () => {
    expect(parseConfigureIndexRequest({ deletion_protection: 'disabled', tags: { a: '' } })).toEqual({
      deletionProtection: false,
      tags: { a: '' },
    });
    expect(parseConfigureIndexRequest({ spec: { serverless: { read_capacity: { mode: 'OnDemand' } } } })).toEqual({});
    expect(parseConfigureIndexRequest(undefined)).toEqual({});
    expect(() => parseConfigureIndexRequest({ spec: { pod: { replicas: 2 } } })).toThrow(InvalidArgumentError);
    expect(() => parseConfigureIndexRequest({ deletion_protection: 'on' })).toThrow(InvalidArgumentError);
  });

  it('merges tags; "" removes one', () => {
    expect(mergeTags({ a: '1', b: '2' }, { b: '', c: '3' })).toEqual({ a: '1', c: '3' });
  });
});
