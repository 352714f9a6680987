import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '../errors.js';
import { compileFilter, parseFilter } from './filter.js';

const match = (filter: unknown, md: Record<string, unknown> | undefined) => compileFilter(parseFilter(filter))(md as never);

describe('parseFilter', () => {
  it('accepts every operator and treats {} as no filter', () => {
    expect(parseFilter({})).toBeUndefined();
    expect(parseFilter(undefined)).toBeUndefined();
    expect(parseFilter({ a: 1 })).toEqual({ op: 'eq', field: 'a', value: 1 });
    expect(parseFilter({ a: { $gte: 1, $lt: 5 } })).toEqual({
      op: 'and',
      children: [
        { op: 'gte', field: 'a', value: 1 },
        { op: 'lt', field: 'a', value: 5 },
      ],
    });
    expect(parseFilter({ $or: [{ a: { $in: ['x'] } }, { b: { $exists: false } }] })).toEqual({
      op: 'or',
      children: [
        { op: 'in', field: 'a', values: ['x'] },
        { op: 'exists', field: 'b', value: false },
      ],
    });
  });

  it.each([
    [{ a: { $regex: 'x' } }, /unknown filter operator \$regex/],
    [{ $not: { a: 1 } }, /unknown filter operator \$not/],
    [{ a: { $gt: 'x' } }, /finite number/],
    [{ a: { $in: 'x' } }, /needs an array/],
    [{ a: { $in: [{}] } }, /only strings, numbers and booleans/],
    [{ a: { $in: Array.from({ length: 10001 }, (_, i) => i) } }, /at most 10000/],
    [{ a: { $exists: 'yes' } }, /true or false/],
    [{ a: null }, /must be a string, number, boolean/],
    [{ a: ['x'] }, /must be a string, number, boolean/],
    [{ $and: [] }, /non-empty array/],
    [{ $or: [{}] }, /non-empty filter object/],
    [{ a: {} }, /no operator/],
    [[1], /JSON object/],
  ])('rejects %j', (filter, message) => {
    expect(() => parseFilter(filter)).toThrow(InvalidArgumentError);
    expect(() => parseFilter(filter)).toThrow(message);
  });

  it('rejects filters nested too deeply', () => {
    let f: unknown = { a: 1 };
    for (let i = 0; i < 10; i++) f = { $or: [f] };
    expect(() => parseFilter(f)).toThrow(/too deeply/);
  });
});

describe('compileFilter semantics', () => {
  const md = { genre: 'drama', year: 2020, tags: ['a', 'b'], ok: true };
  it.each([
    [{ genre: 'drama' }, true],
    [{ genre: { $ne: 'drama' } }, false],
    [{ missing: { $ne: 'x' } }, true],
    [{ missing: { $nin: ['x'] } }, true],
    [{ missing: { $in: ['x'] } }, false],
    [{ year: { $gt: 2019, $lte: 2020 } }, true],
    [{ year: { $lt: 2020 } }, false],
    [{ genre: { $gt: 1 } }, false],
    [{ tags: 'a' }, true],
    [{ tags: { $in: ['c', 'b'] } }, true],
    [{ tags: { $nin: ['b'] } }, false],
    [{ tags: { $ne: 'c' } }, true],
    [{ ok: true }, true],
    [{ ok: { $exists: true } }, true],
    [{ nope: { $exists: false } }, true],
    [{ $or: [{ genre: 'comedy' }, { year: 2020 }] }, true],
    [{ $and: [{ genre: 'comedy' }, { year: 2020 }] }, false],
    [{ constructor: { $exists: true } }, false],
  ])('%j → %s', (filter, expected) => {
    expect(match(filter, md)).toBe(expected);
  });

  it('a record without metadata matches only negative operators', () => {
    expect(match({ a: 1 }, undefined)).toBe(false);
    expect(match({ a: { $ne: 1 } }, undefined)).toBe(true);
    expect(match({ a: { $exists: false } }, undefined)).toBe(true);
  });
});
