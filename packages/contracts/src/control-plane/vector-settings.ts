// An index's vector settings (dimension, metric, vector type) and their rules, in one place for the gateway's
// create-index requests (classic fields and 2026-07's `dense_vector` schema field) and the vector store's
// `PUT /internal/indexes/:id`.
import { InvalidArgumentError } from '../errors.js';

export const INDEX_METRICS = ['cosine', 'euclidean', 'dotproduct'] as const;
export type IndexMetric = (typeof INDEX_METRICS)[number];
export type VectorType = 'dense' | 'sparse';
/** Pinecone's largest dense dimension. */
export const MAX_DIMENSION = 20_000;

export interface VectorSettings {
  /** null for sparse indexes. */
  readonly dimension: number | null;
  readonly metric: IndexMetric;
  readonly vectorType: VectorType;
}

/** `path` names the field in the message (e.g. `schema.fields._values.dimension`). */
export function parseDimension(value: unknown, path = 'dimension'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DIMENSION) {
    throw new InvalidArgumentError(`${path} must be an integer from 1 to ${MAX_DIMENSION}`);
  }
  return value;
}

export function parseMetric(value: unknown, path = 'metric'): IndexMetric {
  if (typeof value !== 'string' || !(INDEX_METRICS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`${path} must be one of "cosine", "euclidean", "dotproduct"`);
  }
  return value as IndexMetric;
}

/**
 * The classic settings as given (absent fields undefined or null): dense by default; the metric defaults to
 * cosine (dense) or dotproduct (sparse); a dense index needs a dimension, a sparse one has none and is scored
 * by dot product.
 */
export function parseVectorSettings(raw: { readonly dimension?: unknown; readonly metric?: unknown; readonly vectorType?: unknown }): VectorSettings {
  const vectorType = raw.vectorType ?? 'dense';
  if (vectorType !== 'dense' && vectorType !== 'sparse') throw new InvalidArgumentError('vector_type must be "dense" or "sparse"');
  const metric = parseMetric(raw.metric ?? (vectorType === 'sparse' ? 'dotproduct' : 'cosine'));
  if (vectorType === 'dense') {
    if (raw.dimension === undefined || raw.dimension === null) throw new InvalidArgumentError('dimension is required for dense indexes');
    return { dimension: parseDimension(raw.dimension), metric, vectorType };
  }
  if (raw.dimension !== undefined && raw.dimension !== null) throw new InvalidArgumentError('Sparse indexes have no dimension: omit it');
  if (metric !== 'dotproduct') throw new InvalidArgumentError('Sparse indexes must use the dotproduct metric');
  return { dimension: null, metric, vectorType };
}
