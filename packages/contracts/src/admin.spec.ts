import { describe, expect, it } from '@jest/globals';
import { parseCreateProjectRequest, parseName, parseScope } from './admin.js';
import { InvalidArgumentError } from './errors.js';

describe('admin names', () => {
  it('400 for a lone UTF-16 surrogate (Postgres cannot store it in the audit JSON: was a 500)', () => {
    expect(() => parseName('a\ud800b', 'name', 80)).toThrow(InvalidArgumentError);
    expect(() => parseName('\udc00', 'name', 80)).toThrow(InvalidArgumentError);
    expect(() => parseCreateProjectRequest(JSON.parse('{"name":"\\ud800"}'))).toThrow(InvalidArgumentError);
  });

  it('accepts well-formed text, astral characters included', () => {
    expect(parseName('café 🌲', 'name', 80)).toBe('café 🌲');
  });

  it('400 for scope entries with NUL or lone surrogates', () => {
    expect(() => parseScope({ indexes: ['a\u0000b'] })).toThrow(InvalidArgumentError);
    expect(() => parseScope({ namespaces: ['\ud800'] })).toThrow(InvalidArgumentError);
    expect(parseScope({ namespaces: [''] }).namespaces).toEqual(['']);
  });
});
