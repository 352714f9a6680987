// Where a new index goes: the live node holding the fewest indexes of the catalog (ties: the node listed
// first, so a fresh cluster fills its nodes in order and placement is deterministic for tests).
export interface NodeLoad {
  readonly id: string;
  readonly live: boolean;
  readonly indexCount: number;
}

export function chooseNode<T extends NodeLoad>(nodes: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const node of nodes) {
    if (!node.live) continue;
    if (best === undefined || node.indexCount < best.indexCount) best = node;
  }
  return best;
}
