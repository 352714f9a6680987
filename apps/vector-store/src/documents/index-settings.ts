// Index settings with a 2026-07 schema: the vector settings are derived from the schema's vector fields
// (or must agree with them), and a schema may later gain fields (the control plane's configure).
import { AlreadyExistsError, type IndexSettings } from '@conifer/contracts';
import type { DurableIndex } from '../storage/durable-index.js';
import { validateIndexSettings } from '../storage/index-registry.js';
import { canonicalJson, documentSchemaOf, isSchemaExtension, readIndexSchema, vectorSettingsFromSchema } from './index-schema.js';
import { isObject } from './document-model.js';
import { textIndexesOf } from './text-indexes.js';

export function validateIndexSettingsWithSchema(raw: unknown): IndexSettings {
  if (!isObject(raw) || raw.schema === undefined || raw.schema === null) return validateIndexSettings(raw);
  const schema = readIndexSchema(raw.schema);
  const explicit = {
    ...(raw.dimension === undefined ? {} : { dimension: raw.dimension }),
    ...(raw.metric === undefined ? {} : { metric: raw.metric }),
    ...((raw.vectorType ?? raw.vector_type) === undefined ? {} : { vectorType: raw.vectorType ?? raw.vector_type }),
  } as Partial<IndexSettings>;
  const settings = validateIndexSettings(vectorSettingsFromSchema(documentSchemaOf(schema), explicit));
  return { ...settings, schema };
}

/**
 * After `PUT /internal/indexes/:id`: a create of an existing index with a schema that only adds fields
 * updates the schema (else 409); an index with a schema gets its full-text indexes maintained from now on.
 */
export async function applySchemaChange(index: DurableIndex, schema: IndexSettings['schema']): Promise<void> {
  if (schema === undefined) return;
  const current = index.settings.schema;
  if (current === undefined || canonicalJson(current) !== canonicalJson(schema)) {
    if (!isSchemaExtension(current, schema)) {
      throw new AlreadyExistsError(`index ${index.id} already exists with another schema (fields may be added, not changed)`);
    }
    await index.updateSchema(schema);
  }
  textIndexesOf(index);
}
