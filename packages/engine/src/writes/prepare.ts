// Validation of write requests against the index settings: each returns a Mutation (throwing
// InvalidArgumentError/NotFoundError/AlreadyExistsError, nothing applied).
import {
  AlreadyExistsError,
  displayNamespace,
  InvalidArgumentError,
  NotFoundError,
  type DeleteRequest,
  type IndexSchema,
  type UpdateRequest,
  type UpsertRequest,
} from '@conifer/contracts';
import type { NamespaceCatalog } from '../namespace/catalog.js';
import type { IndexSettings, Mutation, StoredRecordInput } from '../types.js';
import { checkDense, checkSparse } from '../validation.js';

export function prepareUpsert(settings: IndexSettings, request: UpsertRequest): Mutation {
  const byId = new Map<string, StoredRecordInput>();
  request.vectors.forEach((record, i) => {
    checkDense(settings, record.values, `vectors[${i}]`, true);
    checkSparse(settings, record.sparseValues, `vectors[${i}]`, true);
    // Last one wins, as at Pinecone; keep only it, in its position.
    byId.delete(record.id);
    byId.set(record.id, record);
  });
  return { type: 'upsert', namespace: request.namespace, records: [...byId.values()] };
}

export function prepareUpdate(settings: IndexSettings, request: UpdateRequest): Mutation {
  if (request.kind === 'filter') {
    return { type: 'updateByFilter', namespace: request.namespace, filter: request.filter, setMetadata: request.setMetadata };
  }
  checkDense(settings, request.values, 'values', false);
  checkSparse(settings, request.sparseValues, 'sparseValues', false);
  if (request.values === undefined && request.sparseValues === undefined && request.setMetadata === undefined) {
    throw new InvalidArgumentError('update needs values, sparseValues or setMetadata');
  }
  const mutation: Mutation = { type: 'update', namespace: request.namespace, id: request.id };
  if (request.values !== undefined) mutation.values = request.values;
  if (request.sparseValues !== undefined) mutation.sparseValues = request.sparseValues;
  if (request.setMetadata !== undefined) mutation.setMetadata = request.setMetadata;
  return mutation;
}

export function prepareDelete(request: DeleteRequest): Mutation {
  switch (request.kind) {
    case 'ids':
      return { type: 'deleteIds', namespace: request.namespace, ids: request.ids };
    case 'all':
      return { type: 'deleteAll', namespace: request.namespace };
    default:
      return { type: 'deleteByFilter', namespace: request.namespace, filter: request.filter };
  }
}

/** `schema`: the namespace's metadata schema, which replaces the index's for which fields are indexed. */
export function prepareCreateNamespace(namespaces: NamespaceCatalog, name: string, schema?: IndexSchema): Mutation {
  if (namespaces.has(name)) throw new AlreadyExistsError(`namespace "${displayNamespace(name)}" already exists`);
  return schema === undefined ? { type: 'createNamespace', namespace: name } : { type: 'createNamespace', namespace: name, schema };
}

export function prepareDeleteNamespace(namespaces: NamespaceCatalog, name: string): Mutation {
  if (!namespaces.has(name)) throw new NotFoundError(`namespace "${displayNamespace(name)}" not found`);
  return { type: 'deleteNamespace', namespace: name };
}
