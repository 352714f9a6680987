// usearch's HNSW search replayed in JavaScript over a saved graph file, with one node left out of the walk
// (search/calibrate.ts's held-out estimate). The breadth calibration queries a graph with its own vectors:
// asked with usearch, such a query walks straight to its own node (distance 0) and from there along the
// links made for it when it was inserted, so its neighbours are found far more easily than a new query's
// (estimate 0.997 where real queries got 0.956 on sparse clustered data, bench/RESULTS.md). usearch's binding
// has no way to keep a node out of a walk (its predicates filter results only; a removed node still routes),
// so the walk is replayed here: the same greedy descent through the upper levels and the same ef-bounded
// beam at level 0 (index.hpp search_for_one_ / search_to_find_in_base_, usearch 2.25), on the file's own
// quantised rows with the query cast as usearch casts it, and the left-out node is never scored, entered or
// expanded: the walk a query gets from the graph without that node. (The node's effect on its neighbours'
// pruned lists stays: if anything, that makes the estimate slightly pessimistic.)
//
// The engine has no disk (DESIGN.md §5): the caller hands over the file's bytes as GraphBytes (the store's
// ANN worker: pread on the published graph file). A file up to `memoryBytes` (256 MB: 1M × 128 at M 16) is
// read whole for the walk and dropped after; a larger one is read as the walk goes (a node's links, a row per
// scored node: ~2 µs each with pread), so that a 1M × 768 graph costs no gigabyte of copies. Either way slower
// than usearch, which is fine for a 64-query background calibration.

/** Random access to the bytes of a saved usearch graph file. */
export interface GraphBytes {
  readonly byteLength: number;
  /** Fills `out` with the file's bytes from offset `at` (throws past the end). */
  read(out: Uint8Array, at: number): void;
}

/** usearch's serialisation constants (index_dense.hpp, index.hpp). */
const DENSE_HEAD_BYTES = 64;
const GRAPH_HEAD_BYTES = 40;
const KEY_BYTES = 8;
const LEVEL_BYTES = 2;
const COUNT_BYTES = 4;
const SLOT_BYTES = 4;
const METRIC_COS = 'c'.charCodeAt(0);
const METRIC_IP = 'i'.charCodeAt(0);
const METRIC_L2SQ = 'e'.charCodeAt(0);
const SCALAR_F32 = 11;
const SCALAR_F16 = 12;
const SCALAR_I8 = 23;

type Scalar = 'i8' | 'f16' | 'f32';

/** A saved usearch graph (index_dense `save`, vectors included), read node by node. */
export class UsearchGraphFile {
  readonly size: number;
  readonly dimensions: number;
  private readonly scalar: Scalar;
  private readonly metric: 'cos' | 'ip' | 'l2sq';
  private readonly rowBytes: number;
  private readonly vectorsAt = 8;
  private readonly connectivity: number;
  private readonly baseBytes: number;
  private readonly levelBytes: number;
  private readonly maxLevel: number;
  private readonly entry: number;
  /** Byte offset of each node's record. */
  private readonly offsets: Float64Array;
  private readonly row: Uint8Array;
  private readonly rowValues: Int8Array | Float32Array | Float16Array;
  private readonly links: Uint8Array;
  private readonly linkView: DataView;
  /** The whole file, when it was read whole. */
  private readonly mem: Buffer | undefined;
  private readonly memView: DataView | undefined;
  private readonly memRows: Int8Array | Float16Array | Float32Array | undefined;

  constructor(
    private readonly bytes: GraphBytes,
    memoryBytes = 256 << 20,
  ) {
    {
      const fileBytes = bytes.byteLength;
      if (fileBytes <= memoryBytes) {
        // A fresh buffer at offset 0 of its own (not the pool): the rows' typed views need it aligned.
        const mem = Buffer.from(new ArrayBuffer(fileBytes));
        // In pieces: a read of more than 2 GB at once is refused.
        for (let at = 0; at < fileBytes; at += 1 << 30) bytes.read(mem.subarray(at, Math.min(fileBytes, at + (1 << 30))), at);
        this.mem = mem;
        this.memView = new DataView(mem.buffer);
      }
      const head = this.read(0, 8);
      const rows = head.readUInt32LE(0);
      this.rowBytes = head.readUInt32LE(4);
      const denseAt = this.vectorsAt + rows * this.rowBytes;
      const dense = this.read(denseAt, DENSE_HEAD_BYTES);
      if (dense.toString('latin1', 0, 7) !== 'usearch') throw new Error('not a usearch graph file with its vectors');
      const metric = dense[13]!;
      const scalar = dense[14]!;
      this.dimensions = Number(dense.readBigUInt64LE(33));
      this.metric = metric === METRIC_COS ? 'cos' : metric === METRIC_IP ? 'ip' : metric === METRIC_L2SQ ? 'l2sq' : (undefined as never);
      this.scalar = scalar === SCALAR_I8 ? 'i8' : scalar === SCALAR_F16 ? 'f16' : scalar === SCALAR_F32 ? 'f32' : (undefined as never);
      if (this.metric === undefined || this.scalar === undefined) throw new Error(`graph of metric ${metric} / scalar ${scalar}: not replayable`);
      const graph = this.read(denseAt + DENSE_HEAD_BYTES, GRAPH_HEAD_BYTES);
      this.size = Number(graph.readBigUInt64LE(0));
      this.connectivity = Number(graph.readBigUInt64LE(8));
      const base = Number(graph.readBigUInt64LE(16));
      this.maxLevel = Number(graph.readBigUInt64LE(24));
      this.entry = Number(graph.readBigUInt64LE(32));
      if (this.size !== rows) throw new Error(`graph file of ${rows} rows for ${this.size} nodes`);
      this.baseBytes = COUNT_BYTES + base * SLOT_BYTES;
      this.levelBytes = COUNT_BYTES + this.connectivity * SLOT_BYTES;
      const levelsAt = denseAt + DENSE_HEAD_BYTES + GRAPH_HEAD_BYTES;
      const levels = this.read(levelsAt, this.size * LEVEL_BYTES);
      this.offsets = new Float64Array(this.size);
      let at = levelsAt + this.size * LEVEL_BYTES;
      for (let i = 0; i < this.size; i++) {
        this.offsets[i] = at;
        at += KEY_BYTES + LEVEL_BYTES + this.baseBytes + levels.readInt16LE(i * LEVEL_BYTES) * this.levelBytes;
      }
      if (at > fileBytes) throw new Error(`graph file truncated (${fileBytes} bytes, nodes end at ${at})`);
      this.row = new Uint8Array(this.rowBytes);
      this.rowValues =
        this.scalar === 'i8' ? new Int8Array(this.row.buffer) : this.scalar === 'f16' ? new Float16Array(this.row.buffer) : new Float32Array(this.row.buffer);
      this.links = new Uint8Array(Math.max(this.baseBytes, this.levelBytes) + KEY_BYTES);
      this.linkView = new DataView(this.links.buffer);
      if (this.mem !== undefined) {
        const rowsBytes = rows * this.rowBytes;
        const at = this.vectorsAt;
        this.memRows =
          this.scalar === 'i8'
            ? new Int8Array(this.mem.buffer, at, rowsBytes)
            : this.scalar === 'f16'
              ? new Float16Array(this.mem.buffer, at, rowsBytes / 2)
              : new Float32Array(this.mem.buffer, at, rowsBytes / 4);
      }
    }
  }

  private read(at: number, bytes: number): Buffer {
    if (this.mem !== undefined) return this.mem.subarray(at, at + bytes);
    const out = Buffer.allocUnsafe(bytes);
    this.bytes.read(out, at);
    return out;
  }

  /** The key of a node. */
  key(node: number): number {
    if (this.memView !== undefined) return Number(this.memView.getBigUint64(this.offsets[node]!, true));
    this.bytes.read(this.links.subarray(0, KEY_BYTES), this.offsets[node]!);
    return Number(this.linkView.getBigUint64(0, true));
  }

  /** A node's neighbours at `level` (into `out`; returns their count). */
  private neighbours(node: number, level: number, out: Uint32Array): number {
    const at = this.offsets[node]! + KEY_BYTES + LEVEL_BYTES + (level === 0 ? 0 : this.baseBytes + (level - 1) * this.levelBytes);
    if (this.memView !== undefined) {
      const view = this.memView;
      const count = view.getUint32(at, true);
      for (let i = 0; i < count; i++) out[i] = view.getUint32(at + COUNT_BYTES + i * SLOT_BYTES, true);
      return count;
    }
    const bytes = level === 0 ? this.baseBytes : this.levelBytes;
    this.bytes.read(this.links.subarray(0, bytes), at);
    const count = this.linkView.getUint32(0, true);
    for (let i = 0; i < count; i++) out[i] = this.linkView.getUint32(COUNT_BYTES + i * SLOT_BYTES, true);
    return count;
  }

  /** The query as usearch stores it for this file's scalar (cast_to_i8_gt: unit length × 127, truncated). */
  private cast(query: Float32Array): Float64Array {
    const dim = this.dimensions;
    const out = new Float64Array(dim);
    if (this.scalar === 'i8') {
      let magnitude = 0;
      for (let i = 0; i < query.length; i++) magnitude += query[i]! * query[i]!;
      magnitude = Math.sqrt(magnitude);
      if (magnitude > 0) for (let i = 0; i < query.length; i++) out[i] = Math.trunc(Math.max(-127, Math.min(127, (query[i]! * 127) / magnitude)));
    } else if (this.scalar === 'f16') {
      for (let i = 0; i < query.length; i++) out[i] = Math.f16round(query[i]!);
    } else {
      out.set(query);
    }
    return out;
  }

  /** The distance of node's row to the cast query (`qq`: the query's squared norm). */
  private distance(q: Float64Array, qq: number, node: number): number {
    const dim = this.dimensions;
    let r = this.memRows;
    let base = 0;
    if (r === undefined) {
      this.bytes.read(this.row, this.vectorsAt + node * this.rowBytes);
      r = this.rowValues;
    } else {
      base = (node * this.rowBytes) / (this.scalar === 'i8' ? 1 : this.scalar === 'f16' ? 2 : 4);
    }
    if (this.metric === 'l2sq') {
      let s = 0;
      for (let i = 0; i < dim; i++) {
        const d = q[i]! - r[base + i]!;
        s += d * d;
      }
      return s;
    }
    let dot = 0;
    let rr = 0;
    for (let i = 0; i < dim; i++) {
      const x = r[base + i]!;
      dot += q[i]! * x;
      rr += x * x;
    }
    if (this.metric === 'ip') return 1 - dot;
    return qq === 0 || rr === 0 ? (qq === rr ? 0 : 1) : 1 - dot / Math.sqrt(qq * rr);
  }

  /**
   * The keys of usearch's `search(query, k)` (ef = max(expansion, k)) on this graph without node `skip`
   * (-1: none), nearest first.
   */
  search(query: Float32Array, k: number, expansion: number, skip = -1): number[] {
    if (this.size === 0 || (this.size === 1 && skip === 0)) return [];
    const q = this.cast(query);
    let qq = 0;
    for (let i = 0; i < q.length; i++) qq += q[i]! * q[i]!;
    const links = new Uint32Array(Math.max(this.baseBytes, this.levelBytes) / SLOT_BYTES);
    // The descent starts at the entry node; should that be the left-out one, at its first neighbour on the
    // highest level where it has one (often the top level holds the entry alone), from that level down.
    let closest = this.entry;
    let top = this.maxLevel;
    if (closest === skip) {
      for (; top >= 0 && this.neighbours(this.entry, top, links) === 0; top--);
      if (top < 0) return [];
      closest = links[0]!;
    }
    let closestDist = this.distance(q, qq, closest);
    for (let level = top; level > 0; level--) {
      for (let changed = true; changed; ) {
        changed = false;
        const count = this.neighbours(closest, level, links);
        for (let i = 0; i < count; i++) {
          const node = links[i]!;
          if (node === skip) continue;
          const d = this.distance(q, qq, node);
          if (d < closestDist) {
            closestDist = d;
            closest = node;
            changed = true;
          }
        }
      }
    }
    // Level 0: a beam of the ef best (sorted ascending), candidates expanded nearest first.
    const ef = Math.max(expansion, k);
    const visited = new Set<number>([closest, skip]);
    const next = new MinHeap();
    next.push(closestDist, closest);
    const topDist: number[] = [closestDist];
    const topNode: number[] = [closest];
    let radius = closestDist;
    while (next.size > 0) {
      const candidateDist = next.peekDistance();
      if (candidateDist > radius && topDist.length === ef) break;
      const candidate = next.pop();
      const count = this.neighbours(candidate, 0, links);
      for (let i = 0; i < count; i++) {
        const node = links[i]!;
        if (visited.has(node)) continue;
        visited.add(node);
        const d = this.distance(q, qq, node);
        if (topDist.length < ef || d < radius) {
          next.push(d, node);
          // Sorted insert, the worst dropped beyond ef (usearch's sorted_buffer_gt::insert).
          let at = topDist.length;
          while (at > 0 && topDist[at - 1]! > d) at--;
          if (at < ef) {
            topDist.splice(at, 0, d);
            topNode.splice(at, 0, node);
            if (topDist.length > ef) {
              topDist.pop();
              topNode.pop();
            }
          }
          radius = topDist[topDist.length - 1]!;
        }
      }
    }
    return topNode.slice(0, k).map((node) => this.key(node));
  }

  /**
   * The nodes of `keys`. The engine's keys are slots, added in order, so node `key` usually holds `key`; the
   * others are found by a pass over the nodes' keys.
   */
  nodesOf(keys: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    const missing = new Set<number>();
    for (const key of keys) {
      if (Number.isInteger(key) && key >= 0 && key < this.size && this.key(key) === key) out.set(key, key);
      else missing.add(key);
    }
    for (let node = 0; node < this.size && missing.size > 0; node++) {
      const key = this.key(node);
      if (missing.delete(key)) out.set(key, node);
    }
    return out;
  }
}

/** A binary min-heap of (distance, node). */
class MinHeap {
  private readonly dist: number[] = [];
  private readonly node: number[] = [];

  get size(): number {
    return this.dist.length;
  }

  peekDistance(): number {
    return this.dist[0]!;
  }

  push(d: number, n: number): void {
    const dist = this.dist;
    const node = this.node;
    let i = dist.length;
    dist.push(d);
    node.push(n);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (dist[parent]! <= d) break;
      dist[i] = dist[parent]!;
      node[i] = node[parent]!;
      i = parent;
    }
    dist[i] = d;
    node[i] = n;
  }

  pop(): number {
    const dist = this.dist;
    const node = this.node;
    const top = node[0]!;
    const lastDist = dist.pop()!;
    const lastNode = node.pop()!;
    const n = dist.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && dist[right]! < dist[left]! ? right : left;
        if (dist[child]! >= lastDist) break;
        dist[i] = dist[child]!;
        node[i] = node[child]!;
        i = child;
      }
      dist[i] = lastDist;
      node[i] = lastNode;
    }
    return top;
  }
}
