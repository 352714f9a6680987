import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { documentSchemaOf } from './index-schema.js';
import { parseQueryString } from './query-string.js';

const schema = documentSchemaOf({
  fields: { title: { type: 'string', full_text_search: {} }, body: { type: 'string', full_text_search: {} }, tag: { type: 'string' } },
});

describe('parseQueryString', () => {
  it('reads fields, phrases, groups, boolean operators and boosts', () => {
    expect(parseQueryString('title:owl', schema)).toEqual({ kind: 'terms', field: 'title', text: 'owl', phrase: false, boost: 1 });
    expect(parseQueryString('body:"nice marmot"^2', schema)).toEqual({ kind: 'terms', field: 'body', text: 'nice marmot', phrase: true, boost: 2 });
    expect(parseQueryString('title:(a b) AND -body:c', schema)).toEqual({
      kind: 'and',
      must: [
        {
          kind: 'and',
          must: [],
          should: [
            { kind: 'terms', field: 'title', text: 'a', phrase: false, boost: 1 },
            { kind: 'terms', field: 'title', text: 'b', phrase: false, boost: 1 },
          ],
          not: [],
        },
      ],
      should: [],
      not: [{ kind: 'terms', field: 'body', text: 'c', phrase: false, boost: 1 }],
    });
  });

  it('searches every full-text field for a term without a field', () => {
    expect(parseQueryString('owl', schema)).toEqual({
      kind: 'or',
      children: [
        { kind: 'terms', field: 'title', text: 'owl', phrase: false, boost: 1 },
        { kind: 'terms', field: 'body', text: 'owl', phrase: false, boost: 1 },
      ],
    });
  });

  it('refuses what Conifer does not support, and malformed queries, with a 400', () => {
    for (const query of ['tag:x', 'title:ow*', 'title:owl~2', '"a b"~3', 'title:[a TO b]', '(a', 'a)', 'AND a', 'a AND', '"open', 'title:']) {
      expect(() => parseQueryString(query, schema)).toThrow(InvalidArgumentError);
    }
  });
});
