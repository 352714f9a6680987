import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../errors.js';
import { parseFetchQuery, parseListNamespacesQuery, parseListQuery } from './parsers.js';
import { bodyField, jsonObjectBody, parseJsonBytes, queryField, queryList } from './request-fields.js';

describe('request fields (the reader the gateway and the store share)', () => {
  it('refuses a repeated single-valued query parameter instead of reading its first or last value', () => {
    expect(queryField({ namespace: 'a' }, 'namespace')).toBe('a');
    expect(queryField({ namespace: ['a'] }, 'namespace')).toBe('a');
    expect(() => queryField({ namespace: ['allowed', 'secret'] }, 'namespace')).toThrow(InvalidArgumentError);
    expect(() => queryField({ paginationToken: 'x', pagination_token: 'y' }, 'paginationToken')).toThrow(/at most once/);
    expect(queryField({ pagination_token: 'y' }, 'paginationToken')).toBe('y');
    expect(queryField(undefined, 'namespace')).toBeUndefined();
    expect(queryList({ ids: ['a', 'b'] }, 'ids')).toEqual(['a', 'b']);
    expect(queryList({ ids: 'a' }, 'ids')).toEqual(['a']);
  });

  it('the store parsers refuse a repeated namespace, limit or token (400)', () => {
    expect(() => parseFetchQuery({ ids: 'x', namespace: ['allowed', 'secret'] })).toThrow(InvalidArgumentError);
    expect(() => parseListQuery({ namespace: ['allowed', 'secret'] })).toThrow(InvalidArgumentError);
    expect(() => parseListQuery({ limit: ['1', '2'] })).toThrow(InvalidArgumentError);
    expect(() => parseListNamespacesQuery({ paginationToken: ['a', 'b'] })).toThrow(InvalidArgumentError);
    expect(parseFetchQuery({ ids: ['a', 'b'], namespace: 'ns' })).toEqual({ namespace: 'ns', ids: ['a', 'b'] });
  });

  it('reads a body as a JSON object from bytes or a parsed value', () => {
    expect(jsonObjectBody(Buffer.from('{"namespace":"a","namespace":"b"}')).namespace).toBe('b');
    expect(jsonObjectBody(Buffer.alloc(0))).toEqual({});
    expect(jsonObjectBody(undefined)).toEqual({});
    expect(() => jsonObjectBody(Buffer.from('[1]'))).toThrow(InvalidArgumentError);
    expect(() => jsonObjectBody(Buffer.from('{"a":'))).toThrow(InvalidArgumentError);
    // A JSON string is a string, not an object to parse again.
    expect(() => jsonObjectBody(Buffer.from('"{\\"namespace\\":\\"x\\"}"'))).toThrow(InvalidArgumentError);
    expect(() => jsonObjectBody('{"namespace":"x"}')).toThrow(InvalidArgumentError);
  });
});

describe('bodyField', () => {
  it('reads a field given in camelCase or snake_case', () => {
    expect(bodyField({ topK: 3 }, 'topK')).toBe(3);
    expect(bodyField({ top_k: 3 }, 'topK')).toBe(3);
    expect(bodyField({ top_k: 3, topK: 3 }, 'topK')).toBe(3);
    expect(bodyField({ vector: [1] }, 'vector')).toEqual([1]);
    expect(bodyField({}, 'topK')).toBeUndefined();
    // null is a value (the parser decides what it means), not an absent field
    expect(bodyField({ max_pods: null }, 'maxPods')).toBeNull();
    expect(bodyField({ maxPods: null }, 'maxPods')).toBeNull();
  });

  it('refuses a field given both ways with different values', () => {
    expect(() => bodyField({ top_k: 3, topK: 4 }, 'topK')).toThrow('top_k is given twice (also as topK) with different values');
    expect(() => bodyField({ max_pods: 1, maxPods: '1' }, 'maxPods')).toThrow(InvalidArgumentError);
  });
});

describe('parseJsonBytes', () => {
  it('reads UTF-8 JSON; empty or blank is no body', () => {
    expect(parseJsonBytes(Buffer.from('{"a":"é"}'))).toEqual({ a: 'é' });
    expect(parseJsonBytes(new Uint8Array(Buffer.from('[1]')))).toEqual([1]);
    expect(parseJsonBytes(Buffer.from(' \n'))).toBeUndefined();
    expect(parseJsonBytes(undefined)).toBeUndefined();
  });

  it('refuses bytes that are not UTF-8 or not JSON with a 400', () => {
    expect(() => parseJsonBytes(Buffer.from([0x7b, 0xff, 0x7d]))).toThrow('request body is not valid UTF-8');
    expect(() => parseJsonBytes(Buffer.from('{"a":'))).toThrow('request body is not valid JSON');
    expect(() => jsonObjectBody(Buffer.from('"text"'))).toThrow('request body must be a JSON object');
  });
});
