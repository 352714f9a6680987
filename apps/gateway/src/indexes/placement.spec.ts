import { describe, expect, it } from '@jest/globals';
import { chooseNode, chooseReplacement, chooseReplicaNodes, type NodeLoad } from './placement.js';

const js = (id: string, indexCount: number, extra: Partial<NodeLoad> = {}): NodeLoad => ({ id, live: true, log: 'jetstream', indexCount, ...extra });

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

  it('skips nodes that are down or draining', () => {
    expect(chooseNode([{ id: 'a', live: false, indexCount: 0 }, { id: 'b', live: true, indexCount: 9 }])?.id).toBe('b');
    expect(chooseNode([{ id: 'a', live: true, draining: true, indexCount: 0 }, { id: 'b', live: true, indexCount: 9 }])?.id).toBe('b');
    expect(chooseNode([{ id: 'a', live: false, indexCount: 0 }])).toBeUndefined();
    expect(chooseNode([])).toBeUndefined();
  });

  it('places N replicas on distinct live JetStream nodes, fewest replicas first, deterministic ties', () => {
    const nodes = [js('a', 2), js('b', 0), js('c', 1), js('d', 0), js('e', 0, { live: false })];
    expect(chooseReplicaNodes(nodes, 3).map((n) => n.id)).toEqual(['b', 'd', 'c']);
    expect(chooseReplicaNodes(nodes, 1).map((n) => n.id)).toEqual(['b']);
    // Capped by the live nodes.
    expect(chooseReplicaNodes(nodes, 9).map((n) => n.id)).toEqual(['b', 'd', 'c', 'a']);
    expect(chooseReplicaNodes([], 3)).toEqual([]);
  });

  it('gives one replica only when the nodes keep a local log (or have not said yet)', () => {
    const local: NodeLoad[] = [
      { id: 'a', live: true, log: 'local', indexCount: 1 },
      { id: 'b', live: true, log: 'local', indexCount: 0 },
      { id: 'c', live: true, indexCount: 0 },
    ];
    expect(chooseReplicaNodes(local, 3).map((n) => n.id)).toEqual(['b']);
    // One JetStream node alone cannot hold two replicas: one replica, on the least loaded node.
    expect(chooseReplicaNodes([...local, js('d', 5)], 2).map((n) => n.id)).toEqual(['b']);
    // Mixed: the JetStream nodes take the replicated index.
    expect(chooseReplicaNodes([...local, js('d', 5), js('e', 7)], 2).map((n) => n.id)).toEqual(['d', 'e']);
  });

  it('replaces a replica on a live JetStream node that holds none of the index yet', () => {
    const nodes = [js('a', 0), js('b', 1), js('c', 3), { id: 'l', live: true, log: 'local' as const, indexCount: 0 }];
    expect(chooseReplacement(nodes, new Set(['a', 'x']))?.id).toBe('b');
    expect(chooseReplacement(nodes, new Set(['a', 'b', 'c']))).toBeUndefined();
  });
});
