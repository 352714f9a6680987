// Where the replicas of an index go: each on a different live node that is not draining, the nodes holding the
// fewest replicas first (ties: the node listed first, so a fresh cluster fills its nodes in order and placement
// is deterministic for tests). More than one replica only on nodes whose log is shared (JetStream): a node's
// local write-ahead log cannot feed another node, so an index on such a node has exactly one replica.
export interface NodeLoad {
  readonly id: string;
  readonly live: boolean;
  /** Marked for draining: takes no new replicas. */
  readonly draining?: boolean;
  /** The node's log as its status reports it; undefined (not reported yet) counts as local. */
  readonly log?: 'local' | 'jetstream' | undefined;
  readonly indexCount: number;
}

function byLoad<T extends NodeLoad>(nodes: readonly T[], exclude: ReadonlySet<string>): T[] {
  const order = new Map(nodes.map((node, i) => [node.id, i]));
  return nodes
    .filter((node) => node.live && !node.draining && !exclude.has(node.id))
    .sort((a, b) => a.indexCount - b.indexCount || order.get(a.id)! - order.get(b.id)!);
}

/** The least loaded live node, or undefined. */
export function chooseNode<T extends NodeLoad>(nodes: readonly T[]): T | undefined {
  return byLoad(nodes, new Set())[0];
}

/**
 * The nodes of a new index's replicas: `wanted` of them when that many live JetStream nodes exist, else as many
 * JetStream nodes as there are (at least two), else one node (the least loaded of any kind). Empty: no live node.
 */
export function chooseReplicaNodes<T extends NodeLoad>(nodes: readonly T[], wanted: number): T[] {
  const live = byLoad(nodes, new Set());
  if (wanted <= 1 || live.length <= 1) return live.slice(0, 1);
  const shared = live.filter((node) => node.log === 'jetstream');
  if (shared.length >= 2) return shared.slice(0, wanted);
  return live.slice(0, 1);
}

/** A node for a replacement replica of a replicated index: a live JetStream node not holding one yet. */
export function chooseReplacement<T extends NodeLoad>(nodes: readonly T[], holding: ReadonlySet<string>): T | undefined {
  return byLoad(nodes, holding).find((node) => node.log === 'jetstream');
}
