import { describe, expect, it } from '@jest/globals';
import { chooseNode } from './placement.js';

describe('placement', () => {
  it('chooses the live node with the fewest indexes, first one on ties', () => {
    expect(
      chooseNode([
        { id: 'a', live: true, indexCount: 3 },
        { id: 'b', live: true, indexCount: 1 },
        { id: 'c', live: true, indexCount: 1 },
      ])?.id,
    ).toBe('b');
  });

  it('skips nodes that are down', () => {
    expect(chooseNode([{ id: 'a', live: false, indexCount: 0 }, { id: 'b', live: true, indexCount: 9 }])?.id).toBe('b');
    expect(chooseNode([{ id: 'a', live: false, indexCount: 0 }])).toBeUndefined();
    expect(chooseNode([])).toBeUndefined();
  });
});
