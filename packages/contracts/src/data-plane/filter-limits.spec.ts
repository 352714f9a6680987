import { describe, expect, it } from '@jest/globals';
import { compileFilter, FILTER_LIMITS, parseFilter, type FilterNode } from './filter.js';

describe('filter limits (issue 14 item 10)', () => {
  it('400 for the 200,000-clause $and that stalled the store', () => {
    const filter = { $and: Array.from({ length: 200_000 }, () => ({ a: { $ne: 'z' } })) };
    expect(() => parseFilter(filter)).toThrow(/more than 1000 operators and clauses/);
  });

  it('accepts a filter of exactly the clause limit, refuses one more', () => {
    // $and counts as one clause.
    const of = (n: number) => ({ $and: Array.from({ length: n }, (_, i) => ({ [`f${i}`]: i })) });
    expect(parseFilter(of(FILTER_LIMITS.maxNodes - 1))).toBeDefined();
    expect(() => parseFilter(of(FILTER_LIMITS.maxNodes))).toThrow(/more than 1000/);
  });

  it('counts operators on one field and nested clauses', () => {
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`f${i}`, { $gte: 0 }]));
    expect(() => parseFilter(wide)).toThrow(/more than 1000/);
    let nested: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 9; i++) nested = { $or: [nested, ...Array.from({ length: 120 }, (_, j) => ({ [`g${j}`]: j }))] };
    expect(() => parseFilter(nested)).toThrow(/more than 1000/);
  });

  it('bounds $in/$nin values over the whole filter, not only per operator', () => {
    const values = Array.from({ length: 6000 }, (_, i) => `v${i}`);
    expect(parseFilter({ a: { $in: values } })).toBeDefined();
    expect(() => parseFilter({ a: { $in: values }, b: { $nin: values } })).toThrow(/more than 10000 \$in\/\$nin values in total/);
  });

  it('bounds the characters of names and values', () => {
    const big = 'x'.repeat(300_000);
    expect(parseFilter({ a: big })).toBeDefined();
    expect(() => parseFilter({ $or: [{ a: big }, { b: big }, { c: big }, { d: big }] })).toThrow(/larger than 1000000 characters/);
  });

  it('400 for lone surrogates in field names and string values', () => {
    expect(() => parseFilter({ 'a\ud800': 1 })).toThrow(/not well-formed Unicode/);
    expect(() => parseFilter({ a: { $in: ['ok', 'b\udfff'] } })).toThrow(/not well-formed Unicode/);
    expect(() => parseFilter({ a: { $eq: '\ud83d' } })).toThrow(/not well-formed Unicode/);
    expect(parseFilter({ a: '\ud83d\ude00' })).toEqual({ op: 'eq', field: 'a', value: '\ud83d\ude00' });
  });

  it('a precomputed filter compiles to its own test', () => {
    const node: FilterNode = { op: 'precomputed', test: (m) => m?.['k'] === 1 };
    expect(compileFilter(node)({ k: 1 })).toBe(true);
    expect(compileFilter(node)({ k: 2 })).toBe(false);
  });
});
