import { describe, expect, it } from '@jest/globals';
import { MAX_DIMENSION, parseVectorSettings } from './vector-settings.js';

describe('parseVectorSettings', () => {
  it('defaults to dense cosine and to dotproduct for sparse', () => {
    expect(parseVectorSettings({ dimension: 3 })).toEqual({ dimension: 3, metric: 'cosine', vectorType: 'dense' });
    expect(parseVectorSettings({ vectorType: 'sparse', dimension: null })).toEqual({ dimension: null, metric: 'dotproduct', vectorType: 'sparse' });
    expect(parseVectorSettings({ dimension: MAX_DIMENSION, metric: 'euclidean', vectorType: 'dense' }).dimension).toBe(20_000);
  });

  it('refuses what Pinecone refuses, naming the field', () => {
    const refuses = (raw: Parameters<typeof parseVectorSettings>[0], message: RegExp) => expect(() => parseVectorSettings(raw)).toThrow(message);
    refuses({}, /dimension is required for dense indexes/);
    for (const dimension of [0, 20_001, 1.5, '3']) refuses({ dimension }, /dimension must be an integer from 1 to 20000/);
    refuses({ dimension: 3, metric: 'manhattan' }, /metric must be one of "cosine", "euclidean", "dotproduct"/);
    refuses({ dimension: 3, vectorType: 'binary' }, /vector_type must be "dense" or "sparse"/);
    refuses({ vectorType: 'sparse', dimension: 3 }, /Sparse indexes have no dimension/);
    refuses({ vectorType: 'sparse', metric: 'cosine' }, /Sparse indexes must use the dotproduct metric/);
  });
});
