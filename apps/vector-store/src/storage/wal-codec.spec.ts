import { describe, expect, it } from '@jest/globals';
import type { Mutation } from '@conifer/engine';
import { decodePayload, encodeGraph, encodeMutation, encodeMutationParts, encodePlacedRecords, encodeValues, frame, frameHeader, scanRecords } from './wal-codec.js';

const mutations: Mutation[] = [
  {
    type: 'upsert',
    namespace: 'ns',
    records: [
      { id: 'a', values: new Float32Array([0.4, -1.5, 3]), metadata: { k: 'v', n: 2, l: ['x'], b: true } },
      { id: 'b', values: new Float32Array([1, 2, 3]), sparseValues: { indices: new Uint32Array([1, 7]), values: new Float32Array([0.5, 2]) } },
    ],
  },
  { type: 'update', namespace: '', id: 'a', values: new Float32Array([9, 9, 9]), setMetadata: { z: 1 } },
  { type: 'updateByFilter', namespace: '', filter: { op: 'eq', field: 'k', value: 'v' }, setMetadata: { y: 'w' } },
  { type: 'deleteIds', namespace: 'ns', ids: ['a', 'b'] },
  { type: 'deleteByFilter', namespace: 'ns', filter: { op: 'gt', field: 'n', value: 1 } },
  { type: 'deleteAll', namespace: 'ns' },
  { type: 'createNamespace', namespace: 'x' },
  { type: 'createNamespace', namespace: 'with-schema', schema: { fields: { genre: { filterable: true } } } },
  { type: 'deleteNamespace', namespace: 'x' },
];

describe('WAL codec', () => {
  it('round-trips every mutation type', () => {
    for (const m of mutations) expect(decodePayload(encodeMutation(m))).toEqual(m);
  });

  it('gives the same bytes in pieces, the values of 64 floats or more as views of the arrays of the records', () => {
    // One packed array as the parse worker makes it, records viewing it; 768-d and 3-d values, sparse, metadata.
    const packed = Float32Array.from({ length: 3 * 768 + 3 }, (_, i) => Math.fround(Math.sin(i) * 7));
    const big: Mutation = {
      type: 'upsert',
      namespace: 'n',
      records: [
        { id: 'x', values: packed.subarray(0, 768), metadata: { a: 'é'.repeat(300) } },
        { id: 'y', values: packed.subarray(768, 1536), sparseValues: { indices: new Uint32Array([3]), values: new Float32Array([1]) } },
        { id: 'small', values: packed.subarray(1536, 1539) },
        { id: 'z', values: packed.subarray(1539) },
      ],
    };
    for (const m of [...mutations, big]) {
      const whole = encodeMutation(m);
      const { parts, bytes } = encodeMutationParts(m);
      expect(bytes).toBe(whole.length);
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
      expect(frameHeader(parts).equals(frameHeader(whole))).toBe(true);
    }
    const viewed = encodeMutationParts(big).parts.filter((part) => part.buffer === packed.buffer);
    expect(viewed.map((part) => (part.byteOffset - packed.byteOffset) / 4)).toEqual([0, 768, 1539]);
  });

  it('scans framed records and stops at a torn tail', () => {
    const log = Buffer.concat(mutations.map((m) => frame(encodeMutation(m))));
    expect(scanRecords(log).payloads).toHaveLength(mutations.length);
    for (const cut of [1, 5, 9, 13]) {
      const torn = log.subarray(0, log.length - cut);
      const scan = scanRecords(torn);
      expect(scan.payloads).toHaveLength(mutations.length - 1);
      expect(scan.problem).toBeDefined();
      expect(scan.validBytes).toBeLessThan(torn.length);
    }
  });

  it('detects a flipped bit by CRC', () => {
    const log = Buffer.concat(mutations.map((m) => frame(encodeMutation(m))));
    const corrupt = Buffer.from(log);
    corrupt[corrupt.length - 3] = corrupt[corrupt.length - 3]! ^ 0x10;
    const scan = scanRecords(corrupt);
    expect(scan.problem).toBe('CRC mismatch');
    expect(scan.payloads).toHaveLength(mutations.length - 1);
  });
});

describe('snapshot records', () => {
  it('round-trip records with their slots and graph records', () => {
    const records = [
      { slot: 0, id: 'a', values: Float32Array.of(1, 2), metadata: { k: 1 } },
      { slot: 7, id: 'b', values: Float32Array.of(3, 4) },
    ];
    expect(decodePayload(encodePlacedRecords('ns', records))).toEqual({ type: 'placedRecords', namespace: 'ns', records });
    const graph = { namespace: '', file: 'snapshot-00000002.graph-0.usearch', upTo: 8, maxNorm: 1.25, bytes: 4096, crc32: 123456 };
    expect(decodePayload(encodeGraph(graph))).toEqual({ type: 'graph', ...graph });
    // With the graph's breadth calibration (issue 12 part 3); a malformed one is dropped, not a corrupt record.
    const calibrated = { ...graph, calibration: { scale: 3, recall: 0.9875, size: 8 } };
    expect(decodePayload(encodeGraph(calibrated))).toEqual({ type: 'graph', ...calibrated });
    // A multiplier below 1 (a graph the rule over-provisions) round-trips too.
    const narrowed = { ...graph, calibration: { scale: 0.625, recall: 0.991, size: 8 } };
    expect(decodePayload(encodeGraph(narrowed))).toEqual({ type: 'graph', ...narrowed });
    for (const calibration of [{ scale: 0, recall: 1, size: 8 }, { scale: -1, recall: 1, size: 8 }, { scale: 'wide', recall: 1, size: 8 }, null]) {
      expect(decodePayload(encodeGraph({ ...graph, calibration } as never))).toEqual({ type: 'graph', ...graph });
    }
  });

  it('rejects a graph record naming a path outside the index directory', () => {
    const bad = encodeGraph({ namespace: '', file: '../../etc/passwd', upTo: 1, maxNorm: 1, bytes: 1, crc32: 1 });
    expect(() => decodePayload(bad)).toThrow(/malformed graph record/);
  });

  it('round-trip values records with their first slot (absent in snapshots before parts: slot 0), and reject a bad one', () => {
    const part = { namespace: 'n', file: 'snapshot-00000003.values-0-1.f32', first: 500, rows: 20, dimension: 4, bytes: 320, crc32: 7 };
    expect(decodePayload(encodeValues(part))).toEqual({ type: 'values', ...part });
    const { first: _, ...whole } = part;
    expect(decodePayload(encodeValues(whole))).toEqual({ type: 'values', ...whole });
    expect(() => decodePayload(encodeValues({ ...part, first: -1 }))).toThrow(/malformed values record/);
    expect(() => decodePayload(encodeValues({ ...part, first: 1.5 }))).toThrow(/malformed values record/);
  });
});
