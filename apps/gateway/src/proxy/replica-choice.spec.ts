import { describe, expect, it } from '@jest/globals';
import type { StoreReplicaStatus, VectorStoreClient } from '@conifer/store-client';
import type { IndexRoute } from '../indexes/index-routes.js';
import type { StoreNode } from '../indexes/vector-store-nodes.service.js';
import { chooseReplica } from './data-plane.proxy.js';

const INDEX = 'idx';

function node(id: string, status: Partial<StoreReplicaStatus> | undefined, extra: Partial<StoreNode> = {}): StoreNode {
  return {
    id,
    url: `http://${id}`,
    live: true,
    configured: true,
    draining: false,
    log: 'jetstream',
    lastAnswerAt: 0,
    replicas: new Map(status === undefined ? [] : [[INDEX, { indexId: INDEX, appliedSeq: undefined, lastSeq: undefined, state: 'ready', ...status }]]),
    outstanding: 0,
    client: {} as VectorStoreClient,
    ...extra,
  };
}

function route(...replicas: StoreNode[]): IndexRoute {
  return { indexId: INDEX, projectId: 'p', name: 'n', state: 'Ready', node: replicas[0]!, replicas };
}

describe('chooseReplica', () => {
  it('reads: prefers a replica that has applied the sequence asked for, then one behind, then unreported, then catching up', () => {
    const ahead = node('ahead', { appliedSeq: 10 });
    const behind = node('behind', { appliedSeq: 5 });
    const unknown = node('unknown', undefined);
    const catching = node('catching', { appliedSeq: 50, state: 'catching-up' });
    for (let turn = 0; turn < 4; turn++) {
      expect(chooseReplica(route(catching, unknown, behind, ahead), false, 10, undefined, turn)?.id).toBe('ahead');
      expect(chooseReplica(route(catching, unknown, behind), false, 10, undefined, turn)?.id).toBe('behind');
      expect(chooseReplica(route(catching, unknown), false, 10, undefined, turn)?.id).toBe('unknown');
      expect(chooseReplica(route(catching), false, 10, undefined, turn)?.id).toBe('catching');
    }
  });

  it('reads: among equals the fewest requests in flight, ties in turn', () => {
    const a = node('a', { appliedSeq: 1 }, { outstanding: 3 });
    const b = node('b', { appliedSeq: 1 }, { outstanding: 1 });
    const c = node('c', { appliedSeq: 1 }, { outstanding: 1 });
    expect(chooseReplica(route(a, b, c), false, undefined, undefined, 0)?.id).toBe('b');
    expect(chooseReplica(route(a, b, c), false, undefined, undefined, 2)?.id).toBe('c');
    b.outstanding = 0;
    expect(chooseReplica(route(a, b, c), false, undefined, undefined, 2)?.id).toBe('b');
  });

  it('writes: round-robin over live replicas, caught-up ones first, whatever their load', () => {
    const a = node('a', { appliedSeq: 1 }, { outstanding: 9 });
    const b = node('b', { appliedSeq: 1 });
    const c = node('c', { appliedSeq: 1, state: 'catching-up' });
    const seen = [0, 1, 2, 3].map((turn) => chooseReplica(route(a, b, c), true, undefined, undefined, turn)?.id);
    expect(seen).toEqual(['a', 'b', 'a', 'a']);
  });

  it('skips down replicas and the one already tried; undefined when none is left', () => {
    const a = node('a', { appliedSeq: 1 });
    const b = node('b', { appliedSeq: 1 }, { live: false });
    expect(chooseReplica(route(a, b), false, undefined, undefined, 1)?.id).toBe('a');
    expect(chooseReplica(route(a, b), false, undefined, a, 0)).toBeUndefined();
    expect(chooseReplica(route(a, b), true, undefined, a, 0)).toBeUndefined();
  });
});
