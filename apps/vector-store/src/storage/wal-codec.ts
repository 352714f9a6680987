// WAL record codec. A record on disk is [u32 payload length][u32 CRC-32 of payload][payload]; the
// payload is a u8 mutation type followed by its fields. Vectors are raw little-endian float32, never
// JSON; ids, filters and metadata are strings. Snapshots use the same records (see snapshot.ts).
import { crc32 } from 'node:zlib';
import type { FilterNode, IndexSchema, ParsedSparseValues, RecordMetadata } from '@conifer/contracts';
import type { Mutation, PlacedRecord, StoredRecordInput } from '@conifer/engine';
import { BinaryReader, BinaryWriter, CorruptRecordError } from './binary.js';

const HEADER_BYTES = 8;
/** Larger lengths are treated as a torn or corrupt header rather than allocated. */
const MAX_RECORD_BYTES = 512 * 1024 * 1024;

const TYPE = {
  upsert: 1,
  update: 2,
  updateByFilter: 3,
  deleteIds: 4,
  deleteByFilter: 5,
  deleteAll: 6,
  createNamespace: 7,
  deleteNamespace: 8,
  snapshotEnd: 9,
  /** Snapshot only: records with the slot each held (so a saved graph keyed by slot stays valid). */
  placedRecords: 10,
  /** Snapshot only: a graph file saved with the snapshot, covering slots [0, upTo) of a namespace. */
  graph: 11,
  /** Snapshot only: the values file of a namespace (rows by slot), before its placedRecords. */
  values: 12,
} as const;

/**
 * A values file saved with a snapshot (see snapshot.ts): rows [first, first + rows) of a namespace, `dimension` float32
 * each. A namespace's files follow one another in slot order from slot 0 (one file, or parts kept from earlier snapshots
 * and a new one for the rows since).
 */
export interface ValuesRecord {
  namespace: string;
  /** File name, relative to the index directory. */
  file: string;
  /** The slot of the file's first row (absent: 0, as snapshots before parts wrote it). */
  first?: number;
  rows: number;
  dimension: number;
  bytes: number;
  crc32: number;
}

/** A graph file saved with a snapshot (see snapshot.ts). */
export interface GraphRecord {
  namespace: string;
  /** File name, relative to the index directory. */
  file: string;
  /** The graph holds the live slots below this one (at capture). */
  upTo: number;
  /** Dotproduct's MIPS reduction bound the graph was built with. */
  maxNorm: number;
  bytes: number;
  crc32: number;
  /**
   * The graph's search-breadth calibration (engine search/calibrate.ts), so that a restart uses it without
   * calibrating again; absent in older snapshots (multiplier 1, then calibrated).
   */
  calibration?: { scale: number; recall: number; size: number };
}

const HAS_VALUES = 1;
const HAS_SPARSE = 2;
const HAS_METADATA = 4;
/** Snapshot records whose values are in the namespace's values file: only their norm (f32) is here. */
const HAS_NORM = 8;

function writeFields(
  w: BinaryWriter,
  values: Float32Array | undefined,
  sparse: ParsedSparseValues | undefined,
  metadata: RecordMetadata | undefined,
  norm?: number,
): void {
  const hasNorm = values === undefined && norm !== undefined;
  w.u8((values ? HAS_VALUES : 0) | (sparse ? HAS_SPARSE : 0) | (metadata ? HAS_METADATA : 0) | (hasNorm ? HAS_NORM : 0));
  if (values) w.f32Array(values);
  if (hasNorm) w.f32(norm);
  if (sparse) {
    w.u32Array(sparse.indices);
    w.f32Array(sparse.values);
  }
  if (metadata) w.string(JSON.stringify(metadata));
}

function readFields(r: BinaryReader): Omit<PlacedRecord, 'id' | 'slot'> {
  const flags = r.u8();
  const out: Omit<PlacedRecord, 'id' | 'slot'> = {};
  if (flags & HAS_VALUES) out.values = r.f32Array();
  if (flags & HAS_NORM) out.norm = r.f32();
  if (flags & HAS_SPARSE) {
    const indices = r.u32Array();
    const values = r.f32Array();
    out.sparseValues = { indices, values };
  }
  if (flags & HAS_METADATA) out.metadata = JSON.parse(r.string()) as RecordMetadata;
  return out;
}

/**
 * An upsert payload's size: exact for ids and values, a guess for metadata (the writer grows if needed);
 * without the values' own bytes when they are viewed, not copied.
 */
function upsertBytesEstimate(records: readonly StoredRecordInput[], withValues: boolean): number {
  let bytes = 64;
  for (const r of records) {
    bytes += 16 + 3 * r.id.length;
    if (r.values !== undefined) bytes += 4 + (withValues ? 4 * r.values.length : 0);
    if (r.sparseValues !== undefined) bytes += 8 + 8 * r.sparseValues.indices.length;
    if (r.metadata !== undefined) bytes += 128;
  }
  return bytes;
}

/** Payload of one mutation (without the frame header). */
export function encodeMutation(m: Mutation): Buffer {
  // An upsert's size is known closely in advance (its values dominate): one allocation instead of ~6 doublings
  // and their copies (a 364 × 768 upsert is 1.1 MB).
  return writeMutation(m, new BinaryWriter(m.type === 'upsert' ? upsertBytesEstimate(m.records, true) : 256)).finish();
}

/**
 * The same payload as encodeMutation, as consecutive pieces in which the records' values are views of the
 * mutation's own arrays (for a writev; they must not change until it is written).
 */
export function encodeMutationParts(m: Mutation): { parts: Buffer[]; bytes: number } {
  return writeMutation(m, new BinaryWriter(m.type === 'upsert' ? upsertBytesEstimate(m.records, false) : 256, true)).finishParts();
}

function writeMutation(m: Mutation, w: BinaryWriter): BinaryWriter {
  w.u8(TYPE[m.type]);
  w.string(m.namespace);
  switch (m.type) {
    case 'upsert':
      w.u32(m.records.length);
      for (const r of m.records) {
        w.string(r.id);
        writeFields(w, r.values, r.sparseValues, r.metadata);
      }
      break;
    case 'update':
      w.string(m.id);
      writeFields(w, m.values, m.sparseValues, m.setMetadata);
      break;
    case 'updateByFilter':
      w.string(JSON.stringify({ filter: m.filter, setMetadata: m.setMetadata }));
      break;
    case 'deleteIds':
      w.string(JSON.stringify(m.ids));
      break;
    case 'deleteByFilter':
      w.string(JSON.stringify(m.filter));
      break;
    case 'createNamespace':
      // Optional trailing schema: records written before namespaces had schemas end after the name.
      if (m.schema !== undefined) w.string(JSON.stringify(m.schema));
      break;
    default:
      break;
  }
  return w;
}

export function encodeSnapshotEnd(recordCount: number): Buffer {
  const w = new BinaryWriter(16);
  w.u8(TYPE.snapshotEnd);
  w.string('');
  w.u32(recordCount);
  return w.finish();
}

export function encodePlacedRecords(namespace: string, records: readonly PlacedRecord[]): Buffer {
  const w = new BinaryWriter(64 + records.length * 64);
  w.u8(TYPE.placedRecords);
  w.string(namespace);
  w.u32(records.length);
  for (const r of records) {
    w.u32(r.slot);
    w.string(r.id);
    writeFields(w, r.values, r.sparseValues, r.metadata, r.norm);
  }
  return w.finish();
}

export function encodeGraph(graph: GraphRecord): Buffer {
  const w = new BinaryWriter(256);
  w.u8(TYPE.graph);
  w.string(graph.namespace);
  const { namespace: _, ...rest } = graph;
  w.string(JSON.stringify(rest));
  return w.finish();
}

export function encodeValues(values: ValuesRecord): Buffer {
  const w = new BinaryWriter(256);
  w.u8(TYPE.values);
  w.string(values.namespace);
  const { namespace: _, ...rest } = values;
  w.string(JSON.stringify(rest));
  return w.finish();
}

export type DecodedPayload =
  | Mutation
  | { type: 'snapshotEnd'; recordCount: number }
  | { type: 'placedRecords'; namespace: string; records: PlacedRecord[] }
  | ({ type: 'graph' } & GraphRecord)
  | ({ type: 'values' } & ValuesRecord);

export function decodePayload(payload: Buffer): DecodedPayload {
  const r = new BinaryReader(payload);
  const type = r.u8();
  const namespace = r.string();
  let out: DecodedPayload;
  switch (type) {
    case TYPE.upsert: {
      const n = r.u32();
      const records: StoredRecordInput[] = [];
      for (let i = 0; i < n; i++) {
        const id = r.string();
        records.push({ id, ...readFields(r) });
      }
      out = { type: 'upsert', namespace, records };
      break;
    }
    case TYPE.update: {
      const id = r.string();
      const fields = readFields(r);
      out = { type: 'update', namespace, id };
      if (fields.values) out.values = fields.values;
      if (fields.sparseValues) out.sparseValues = fields.sparseValues;
      if (fields.metadata) out.setMetadata = fields.metadata;
      break;
    }
    case TYPE.updateByFilter: {
      const body = JSON.parse(r.string()) as { filter: FilterNode; setMetadata: RecordMetadata };
      out = { type: 'updateByFilter', namespace, filter: body.filter, setMetadata: body.setMetadata };
      break;
    }
    case TYPE.deleteIds:
      out = { type: 'deleteIds', namespace, ids: JSON.parse(r.string()) as string[] };
      break;
    case TYPE.deleteByFilter:
      out = { type: 'deleteByFilter', namespace, filter: JSON.parse(r.string()) as FilterNode };
      break;
    case TYPE.deleteAll:
      out = { type: 'deleteAll', namespace };
      break;
    case TYPE.createNamespace:
      out = r.done
        ? { type: 'createNamespace', namespace }
        : { type: 'createNamespace', namespace, schema: JSON.parse(r.string()) as IndexSchema };
      break;
    case TYPE.deleteNamespace:
      out = { type: 'deleteNamespace', namespace };
      break;
    case TYPE.snapshotEnd:
      out = { type: 'snapshotEnd', recordCount: r.u32() };
      break;
    case TYPE.placedRecords: {
      const n = r.u32();
      const records: PlacedRecord[] = [];
      for (let i = 0; i < n; i++) {
        const slot = r.u32();
        const id = r.string();
        records.push({ slot, id, ...readFields(r) });
      }
      out = { type: 'placedRecords', namespace, records };
      break;
    }
    case TYPE.graph: {
      const g = JSON.parse(r.string()) as Omit<GraphRecord, 'namespace'>;
      if (typeof g.file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(g.file) || !Number.isInteger(g.upTo) || !Number.isFinite(g.maxNorm)) {
        throw new CorruptRecordError('malformed graph record');
      }
      out = { type: 'graph', namespace, file: g.file, upTo: g.upTo, maxNorm: g.maxNorm, bytes: g.bytes, crc32: g.crc32 };
      const c = g.calibration;
      // A malformed calibration is dropped (the graph is calibrated again), not a corrupt snapshot.
      if (c !== undefined && c !== null && Number.isFinite(c.scale) && c.scale > 0 && Number.isFinite(c.recall) && Number.isInteger(c.size)) {
        out.calibration = { scale: c.scale, recall: c.recall, size: c.size };
      }
      break;
    }
    case TYPE.values: {
      const v = JSON.parse(r.string()) as Omit<ValuesRecord, 'namespace'>;
      const counts = [v.rows, v.dimension, v.bytes, v.crc32, v.first ?? 0];
      if (typeof v.file !== 'string' || !/^[A-Za-z0-9._-]+$/.test(v.file) || !counts.every((n) => Number.isSafeInteger(n) && n >= 0)) {
        throw new CorruptRecordError('malformed values record');
      }
      if (v.bytes !== v.rows * v.dimension * 4) throw new CorruptRecordError('values record size does not match its rows');
      out = { type: 'values', namespace, file: v.file, rows: v.rows, dimension: v.dimension, bytes: v.bytes, crc32: v.crc32 };
      if (v.first !== undefined) out.first = v.first;
      break;
    }
    default:
      throw new CorruptRecordError(`unknown record type ${type}`);
  }
  if (!r.done) throw new CorruptRecordError('trailing bytes in record');
  return out;
}

/** The 8-byte header framing `payload` (written before it: frame() without copying the payload). */
export function frameHeader(payload: Buffer | readonly Buffer[]): Buffer {
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  if (Buffer.isBuffer(payload)) {
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload), 4);
    return header;
  }
  let bytes = 0;
  let crc = 0;
  for (const part of payload) {
    bytes += part.length;
    crc = crc32(part, crc);
  }
  header.writeUInt32LE(bytes, 0);
  header.writeUInt32LE(crc, 4);
  return header;
}

/** Frames a payload: length, CRC-32, payload. */
export function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

export interface ScanResult {
  payloads: Buffer[];
  /** Bytes of whole, valid records from the start of the buffer. */
  validBytes: number;
  /** Why scanning stopped before the end, if it did (torn or corrupt tail). */
  problem?: string;
}

/** Splits a log into record payloads, stopping at the first incomplete or corrupt record. */
export function scanRecords(buffer: Buffer): ScanResult {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    if (buffer.length - offset < HEADER_BYTES) return { payloads, validBytes: offset, problem: 'torn record header' };
    const length = buffer.readUInt32LE(offset);
    const crc = buffer.readUInt32LE(offset + 4);
    if (length > MAX_RECORD_BYTES) return { payloads, validBytes: offset, problem: 'implausible record length' };
    if (buffer.length - offset - HEADER_BYTES < length) return { payloads, validBytes: offset, problem: 'torn record' };
    const payload = buffer.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(payload) !== crc) return { payloads, validBytes: offset, problem: 'CRC mismatch' };
    payloads.push(payload);
    offset += HEADER_BYTES + length;
  }
  return { payloads, validBytes: offset };
}
