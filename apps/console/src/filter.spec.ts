import { describe, expect, it } from '@jest/globals';
import { parseFilter } from './filter';

describe('parseFilter', () => {
  it('accepts no filter, bare values and every operator', () => {
    expect(parseFilter('  ')).toEqual({});
    const text = '{"genre":"drama","year":{"$gte":2000,"$lt":2020},"tags":{"$in":["a","b"]},"$or":[{"x":{"$exists":true}},{"y":{"$ne":false}}]}';
    expect(parseFilter(text)).toEqual({ filter: JSON.parse(text) });
  });

  it('says what is wrong and where', () => {
    expect(parseFilter('{"genre":').error).toMatch(/^The filter is not valid JSON/);
    expect(parseFilter('[1]').error).toBe('filter must be an object');
    expect(parseFilter('{"genre":{"$regex":"d"}}').error).toBe('filter.genre: unknown operator $regex');
    expect(parseFilter('{"year":{"$gt":"2000"}}').error).toBe('filter.year.$gt takes a number');
    expect(parseFilter('{"tags":{"$in":[]}}').error).toBe('filter.tags.$in takes a non-empty array of values');
    expect(parseFilter('{"$and":[{"a":1},{"b":{"$exists":"yes"}}]}').error).toBe('filter.$and[1].b.$exists takes true or false');
    expect(parseFilter('{"$not":{"a":1}}').error).toMatch(/unknown operator \$not/);
    expect(parseFilter('{"a":{}}').error).toBe('filter.a has no operator');
  });
});
