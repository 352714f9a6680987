// Checks of dense and sparse values against the index settings (writes and queries).
import { InvalidArgumentError, type ParsedSparseValues } from '@conifer/contracts';
import type { IndexSettings } from './types.js';

export function checkDense(settings: IndexSettings, values: Float32Array | undefined, what: string, required: boolean): void {
  if (settings.vectorType === 'sparse') {
    if (values !== undefined && values.length > 0) {
      throw new InvalidArgumentError(`${what}: this index is sparse and takes no dense values`);
    }
    return;
  }
  if (values === undefined) {
    if (required) throw new InvalidArgumentError(`${what}: dense values are required for this index`);
    return;
  }
  if (values.length !== settings.dimension) {
    throw new InvalidArgumentError(
      `${what}: vector dimension ${values.length} does not match the dimension of the index ${settings.dimension}`,
    );
  }
}

export function checkSparse(settings: IndexSettings, sparse: ParsedSparseValues | undefined, what: string, required: boolean): void {
  if (settings.vectorType === 'sparse') {
    if (required && (sparse === undefined || sparse.indices.length === 0)) {
      throw new InvalidArgumentError(`${what}: sparse values are required for a sparse index`);
    }
    return;
  }
  if (sparse !== undefined && sparse.indices.length > 0 && settings.metric !== 'dotproduct') {
    throw new InvalidArgumentError(`${what}: sparse values are supported only for indexes with the dotproduct metric`);
  }
}
