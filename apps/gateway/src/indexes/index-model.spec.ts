import { describe, expect, it } from '@jest/globals';
import { renderIndexModel, type IndexRecord } from './index-model.js';

const base: IndexRecord = {
  id: 'id-1',
  projectId: 'p',
  name: 'docs',
  dimension: 8,
  metric: 'cosine',
  vectorType: 'dense',
  deletionProtection: false,
  tags: { env: 'prod' },
  spec: { serverless: { cloud: 'aws', region: 'us-east-1' } },
  schema: { fields: { _values: { type: 'dense_vector', dimension: 8, metric: 'cosine' } } },
  state: 'Ready',
  replicas: [{ nodeId: 'n', state: 'active' }],
  createdAt: new Date(0),
};

describe('IndexModel', () => {
  it('renders the wire shape of a ready dense index', () => {
    expect(renderIndexModel(base, 'http://h/data/p/docs')).toEqual({
      name: 'docs',
      dimension: 8,
      metric: 'cosine',
      host: 'http://h/data/p/docs',
      spec: { serverless: { cloud: 'aws', region: 'us-east-1', read_capacity: { mode: 'OnDemand', status: { state: 'Ready' } } } },
      status: { ready: true, state: 'Ready' },
      deletion_protection: 'disabled',
      tags: { env: 'prod' },
      vector_type: 'dense',
    });
  });

  it('omits the dimension of sparse indexes and is not ready while initializing', () => {
    const model = renderIndexModel(
      { ...base, dimension: null, metric: 'dotproduct', vectorType: 'sparse', state: 'Initializing', deletionProtection: true },
      'h',
    );
    expect('dimension' in model).toBe(false);
    expect(model.status).toEqual({ ready: false, state: 'Initializing' });
    expect(model.deletion_protection).toBe('enabled');
    expect(model.vector_type).toBe('sparse');
  });
});
