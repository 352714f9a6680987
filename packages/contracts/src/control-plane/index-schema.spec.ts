import { describe, expect, it } from '@jest/globals';
import { filterableFields, metadataSchemaOf, parseIndexSchema, schemaFromVectorSettings, vectorSettingsOfSchema } from './index-schema.js';

const index = { path: 'schema', vectors: true };
const namespace = { path: 'namespace schema', vectors: false };

describe('index schema (2026-07 wire shape)', () => {
  it('indexes every metadata field when none is declared', () => {
    expect(filterableFields(parseIndexSchema({ fields: { _values: { type: 'dense_vector', dimension: 2 } } }, index))).toBeUndefined();
    expect(filterableFields(undefined)).toBeUndefined();
  });

  it('indexes only the declared filterable fields', () => {
    const schema = parseIndexSchema(
      { fields: { _values: { type: 'dense_vector', dimension: 2 }, a: { type: 'string' }, b: { type: 'float', filterable: false }, c: { filterable: true } } },
      index,
    );
    expect(filterableFields(schema)).toEqual(['a', 'c']);
    expect(metadataSchemaOf(schema)).toEqual({ fields: { a: { filterable: true }, c: { filterable: true } } });
  });

  it('takes metadata-only schemas for namespaces and refuses vector or full-text fields there', () => {
    expect(parseIndexSchema({ fields: { genre: { filterable: true } } }, namespace)).toEqual({ fields: { genre: { filterable: true } } });
    expect(() => parseIndexSchema({ fields: { v: { type: 'dense_vector', dimension: 2 } } }, namespace)).toThrow(/metadata fields only/);
    expect(() => parseIndexSchema({ fields: { t: { type: 'string', full_text_search: {} } } }, namespace)).toThrow(/full_text_search/);
    expect(() => parseIndexSchema({ fields: { genre: { filterable: true } }, extra: 1 }, namespace)).toThrow(/"extra" is not supported/);
    expect(() => parseIndexSchema([], namespace)).toThrow(/must be an object/);
  });

  it('derives the vector settings both ways', () => {
    const schema = schemaFromVectorSettings({ dimension: 3, metric: 'euclidean', vectorType: 'dense' });
    expect(schema).toEqual({ fields: { _values: { type: 'dense_vector', dimension: 3, metric: 'euclidean' } } });
    expect(vectorSettingsOfSchema(schema)).toEqual({ dimension: 3, metric: 'euclidean', vectorType: 'dense' });
    expect(vectorSettingsOfSchema(schemaFromVectorSettings({ dimension: null, metric: 'dotproduct', vectorType: 'sparse' }))).toEqual({
      dimension: null,
      metric: 'dotproduct',
      vectorType: 'sparse',
    });
  });

  it('keeps a field named __proto__ as a field', () => {
    const schema = parseIndexSchema(JSON.parse('{"fields":{"__proto__":{"filterable":true}}}'), namespace);
    expect(Object.keys(schema.fields)).toEqual(['__proto__']);
    expect(filterableFields(schema)).toEqual(['__proto__']);
  });

  it('refuses names that are not well-formed Unicode', () => {
    expect(() => parseIndexSchema({ fields: { ['a\ud800']: { filterable: true } } }, namespace)).toThrow(/not valid Unicode/);
  });
});
