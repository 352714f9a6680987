import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { parseDocumentFilter } from './document-filter.js';
import { documentSchemaOf } from './index-schema.js';

const schema = documentSchemaOf({
  fields: { body: { type: 'string', full_text_search: { language: 'en', stemming: true } }, genre: { type: 'string' } },
});
const search = { allowText: true, required: false, operation: 'search' };

describe('parseDocumentFilter', () => {
  it('separates text-match conditions (analysed like the field) from the metadata filter', () => {
    const filter = parseDocumentFilter({ $and: [{ body: { $match_phrase: 'Migrating Birds' } }, { genre: 'nature' }, { year: { $gt: 2000 } }] }, schema, search)!;
    expect(filter.text).toEqual([{ field: 'body', operator: '$match_phrase', terms: ['migrat', 'bird'] }]);
    expect(filter.metadata).toBeDefined();
    expect(parseDocumentFilter({ body: { $match_any: 'owl' } }, schema, search)).toEqual({ text: [{ field: 'body', operator: '$match_any', terms: ['owl'] }] });
    expect(parseDocumentFilter(undefined, schema, search)).toBeUndefined();
  });

  it('refuses text-match operators where they cannot apply', () => {
    const bad: unknown[] = [
      { genre: { $match_all: 'x' } },
      { body: { $match_all: '' } },
      { body: { $match_all: 'x', $eq: 'y' } },
      { $or: [{ body: { $match_any: 'x' } }, { genre: 'a' }] },
    ];
    for (const raw of bad) expect(() => parseDocumentFilter(raw, schema, search)).toThrow(InvalidArgumentError);
    expect(() => parseDocumentFilter({ body: { $match_any: 'x' } }, schema, { allowText: false, required: true, operation: 'delete' })).toThrow(/metadata alone/);
    expect(() => parseDocumentFilter({}, schema, { allowText: false, required: true, operation: 'delete' })).toThrow(/must not be empty/);
  });
});
