import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { filterNamespaceListing, parseScopedListingQuery, requestedNamespace, scopedNamespacePage } from './namespace-scope.js';

describe('namespace scope', () => {
  it('finds the namespace in the body bytes, the query, body.name or the path', () => {
    expect(requestedNamespace('body', { body: Buffer.from('{"namespace":"en","topK":1}') })).toBe('en');
    expect(requestedNamespace('body', { body: Buffer.from('{"topK":1}') })).toBe('');
    expect(requestedNamespace('body', { body: Buffer.from('{"namespace":"__default__"}') })).toBe('');
    expect(requestedNamespace('body', { body: Buffer.alloc(0) })).toBe('');
    expect(requestedNamespace('body', { body: { namespace: 'parsed' } })).toBe('parsed');
    expect(requestedNamespace('body-name', { body: Buffer.from('{"name":"fr"}') })).toBe('fr');
    expect(requestedNamespace('query', { query: { namespace: 'a' } })).toBe('a');
    expect(requestedNamespace('path', { params: { namespace: 'x y' } })).toBe('x y');
    expect(requestedNamespace('response', {})).toBeUndefined();
    expect(() => requestedNamespace('body', { body: Buffer.from('{"namespace":') })).toThrow(InvalidArgumentError);
    expect(() => requestedNamespace('body', { body: Buffer.from('[1]') })).toThrow(InvalidArgumentError);
  });

  it('reads fields exactly as the store does: a repeated ?namespace= or a namespace that is not a name is a 400', () => {
    // The store used to read the last value and the gateway the first: allowed&secret read "secret" unchecked.
    expect(() => requestedNamespace('query', { query: { namespace: ['allowed', 'secret'] } })).toThrow(InvalidArgumentError);
    expect(() => requestedNamespace('body', { body: Buffer.from('{"namespace":5}') })).toThrow(InvalidArgumentError);
    expect(() => requestedNamespace('body', { body: Buffer.from('{"namespace":"a\\nb"}') })).toThrow(InvalidArgumentError);
  });

  it('paginates a scoped key\'s namespace listing over the namespaces it may see (no token names a hidden one)', () => {
    const stats = Buffer.from(
      JSON.stringify({ namespaces: { '': { vectorCount: 1 }, a: { vectorCount: 2 }, hidden1: { vectorCount: 3 }, hidden2: { vectorCount: 1 }, z: { vectorCount: 4 } } }),
    );
    const allowed = (ns: string) => ns === 'a' || ns === 'z' || ns === '';
    const page1 = JSON.parse(scopedNamespacePage(parseScopedListingQuery({ limit: '2' }), allowed, stats).toString());
    expect(page1.namespaces).toEqual([{ name: '__default__', record_count: 1 }, { name: 'a', record_count: 2 }]);
    expect(page1.total_count).toBe(3);
    expect(Buffer.from(page1.pagination.next, 'base64url').toString()).toBe('a');
    const page2 = JSON.parse(scopedNamespacePage(parseScopedListingQuery({ limit: '2', paginationToken: page1.pagination.next }), allowed, stats).toString());
    expect(page2).toEqual({ namespaces: [{ name: 'z', record_count: 4 }], total_count: 3 });
    const none = JSON.parse(scopedNamespacePage(parseScopedListingQuery({ prefix: 'h' }), allowed, stats).toString());
    expect(none).toEqual({ namespaces: [], total_count: 0 });
    expect(() => parseScopedListingQuery({ limit: ['1', '2'] })).toThrow(InvalidArgumentError);
  });

  it('narrows describe_index_stats and namespace listings to the scope, counts recomputed', () => {
    const stats = Buffer.from(
      JSON.stringify({ namespaces: { '': { vectorCount: 1 }, en: { vectorCount: 2 }, fr: { vectorCount: 4 } }, totalVectorCount: 7, dimension: 2 }),
    );
    expect(JSON.parse(filterNamespaceListing('describe_index_stats', (ns) => ns === '' || ns === 'fr', stats).toString())).toEqual({
      namespaces: { '': { vectorCount: 1 }, fr: { vectorCount: 4 } },
      totalVectorCount: 5,
      dimension: 2,
    });
    const listing = Buffer.from(JSON.stringify({ namespaces: [{ name: 'en', record_count: 2 }, { name: 'fr', record_count: 4 }], total_count: 2 }));
    expect(JSON.parse(filterNamespaceListing('list_namespaces', (ns) => ns === 'en', listing).toString())).toEqual({
      namespaces: [{ name: 'en', record_count: 2 }],
      total_count: 1,
    });
    expect(filterNamespaceListing('list_namespaces', () => true, Buffer.from('not json')).toString()).toBe('not json');
  });
});
