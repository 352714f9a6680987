import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from '@conifer/contracts';
import { filterNamespaceListing, requestedNamespace } from './namespace-scope.js';

describe('namespace scope', () => {
  it('finds the namespace in the body bytes, the query, body.name or the path', () => {
    expect(requestedNamespace('body', { body: Buffer.from('{"namespace":"en","topK":1}') })).toBe('en');
    expect(requestedNamespace('body', { body: Buffer.from('{"topK":1}') })).toBeUndefined();
    expect(requestedNamespace('body', { body: Buffer.alloc(0) })).toBeUndefined();
    expect(requestedNamespace('body', { body: { namespace: 'parsed' } })).toBe('parsed');
    expect(requestedNamespace('body-name', { body: Buffer.from('{"name":"fr"}') })).toBe('fr');
    expect(requestedNamespace('query', { query: { namespace: ['a', 'b'] } })).toBe('a');
    expect(requestedNamespace('path', { params: { namespace: 'x y' } })).toBe('x y');
    expect(requestedNamespace('body', { body: Buffer.from('{"namespace":5}') })).toBe('5');
    expect(() => requestedNamespace('body', { body: Buffer.from('{"namespace":') })).toThrow(InvalidArgumentError);
    expect(() => requestedNamespace('body', { body: Buffer.from('[1]') })).toThrow(InvalidArgumentError);
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
