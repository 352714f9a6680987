// One index on disk: <dir>/index.json (settings), wal-<seq>.log files and snapshot-<seq>.bin files.
// snapshot-N holds everything logged in wal files below N; recovery loads the newest snapshot and replays
// wal-N, wal-N+1… in order. A torn or corrupt tail of the last log is dropped (and truncated away).
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { UnavailableError } from '@conifer/contracts';
import type { Logger } from 'pino';
import type { IndexSettings, Mutation, SearchOptions } from '../engine/types.js';
import { DEFAULT_SEARCH_OPTIONS, VectorIndex } from '../engine/vector-index.js';
import { captureSnapshot } from './snapshot.js';
import { decodePayload, encodeMutation, scanRecords } from './wal-codec.js';
import { WalWriter } from './wal-writer.js';

export interface DurableIndexOptions {
  /** Take a snapshot (and start a new log) when the current log grows past this many bytes. */
  snapshotWalBytes: number;
  search: Partial<SearchOptions>;
}

export const DEFAULT_DURABLE_OPTIONS: DurableIndexOptions = {
  snapshotWalBytes: 256 * 1024 * 1024,
  search: DEFAULT_SEARCH_OPTIONS,
};

const walName = (seq: number): string => `wal-${String(seq).padStart(8, '0')}.log`;
const snapshotName = (seq: number): string => `snapshot-${String(seq).padStart(8, '0')}.bin`;

export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class DurableIndex {
  private closed = false;
  private snapshotting: Promise<void> | undefined;
  /** Mutations acknowledged (metrics). */
  mutations = 0;
  /** Called after each acknowledged mutation is applied (derived state such as full-text indexes). */
  readonly appliedHooks: Array<(mutation: Mutation) => void> = [];
  private currentSettings: IndexSettings;

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly index: VectorIndex,
    private readonly wal: WalWriter,
    private walSeq: number,
    private readonly options: DurableIndexOptions,
    private readonly logger: Logger,
  ) {
    this.currentSettings = index.settings;
  }

  /** The index settings, with the current schema (which may grow after creation). */
  get settings(): IndexSettings {
    return this.currentSettings;
  }

  /** Replaces the schema (fields added by the control plane), durably, before answering. */
  async updateSchema(schema: NonNullable<IndexSettings['schema']>): Promise<void> {
    const file = path.join(this.dir, 'index.json');
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ ...raw, schema }, null, 2));
    const fd = openSync(temporary, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, file);
    fsyncDirectory(this.dir);
    this.currentSettings = { ...this.currentSettings, schema };
  }

  /** Creates the directory and settings file of a new index. */
  static async create(
    id: string,
    dir: string,
    settings: IndexSettings,
    options: DurableIndexOptions,
    logger: Logger,
  ): Promise<DurableIndex> {
    const parent = path.dirname(dir);
    const temporary = `${dir}.creating`;
    rmSync(temporary, { recursive: true, force: true });
    mkdirSync(temporary, { recursive: true });
    const settingsFile = path.join(temporary, 'index.json');
    writeFileSync(settingsFile, JSON.stringify({ id, ...settings, createdAt: new Date().toISOString() }, null, 2));
    const fd = openSync(settingsFile, 'r');
    fsyncSync(fd);
    closeSync(fd);
    writeFileSync(path.join(temporary, walName(1)), '');
    fsyncDirectory(temporary);
    renameSync(temporary, dir);
    fsyncDirectory(parent);
    return DurableIndex.load(id, dir, options, logger);
  }

  /** Rebuilds the in-memory state from the newest snapshot and the logs after it. */
  static async load(id: string, dir: string, options: DurableIndexOptions, logger: Logger): Promise<DurableIndex> {
    const raw = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as IndexSettings;
    const settings: IndexSettings = {
      dimension: raw.dimension ?? null,
      metric: raw.metric,
      vectorType: raw.vectorType,
      ...(raw.schema === undefined ? {} : { schema: raw.schema }),
    };
    const index = new VectorIndex(settings, options.search);
    const files = readdirSync(dir);
    const seqOf = (name: string, re: RegExp): number | undefined => {
      const m = re.exec(name);
      return m ? Number(m[1]) : undefined;
    };
    const snapshots = files
      .map((f) => seqOf(f, /^snapshot-(\d+)\.bin$/))
      .filter((s): s is number => s !== undefined)
      .sort((a, b) => b - a);
    let base = 0;
    for (const seq of snapshots) {
      const candidate = new VectorIndex(settings, options.search);
      if (replaySnapshot(path.join(dir, snapshotName(seq)), candidate)) {
        index.namespaces.clear();
        for (const [name, ns] of candidate.namespaces) index.namespaces.set(name, ns);
        base = seq;
        break;
      }
      logger.error({ index: id, snapshot: seq }, 'snapshot is incomplete or corrupt; trying an older one');
    }
    const wals = files
      .map((f) => seqOf(f, /^wal-(\d+)\.log$/))
      .filter((s): s is number => s !== undefined && s >= base)
      .sort((a, b) => a - b);
    let replayed = 0;
    for (let i = 0; i < wals.length; i++) {
      const file = path.join(dir, walName(wals[i]!));
      const scan = scanRecords(readFileSync(file));
      for (const payload of scan.payloads) {
        const decoded = decodePayload(payload);
        if (decoded.type !== 'snapshotEnd') index.apply(decoded);
        replayed++;
      }
      if (scan.problem !== undefined) {
        if (i !== wals.length - 1) {
          throw new Error(`index ${id}: ${scan.problem} in the middle of ${file}; refusing to load it`);
        }
        logger.warn({ index: id, file, validBytes: scan.validBytes, problem: scan.problem }, 'dropping torn WAL tail');
        truncateSync(file, scan.validBytes);
      }
    }
    const seq = wals.length > 0 ? wals[wals.length - 1]! : Math.max(base, 1);
    const wal = await WalWriter.open(path.join(dir, walName(seq)));
    logger.info({ index: id, vectors: index.totalVectorCount, snapshot: base || undefined, walRecords: replayed }, 'index loaded');
    return new DurableIndex(id, dir, index, wal, seq, options, logger);
  }

  /** Logs the mutation durably, then applies it. Resolves with the number of records touched. */
  async mutate(mutation: Mutation): Promise<number> {
    if (this.closed) throw new UnavailableError(`index ${this.id} is closing`);
    await this.wal.append(encodeMutation(mutation));
    // No await between the fsync and apply: mutations apply in log order.
    const touched = this.index.apply(mutation);
    for (const hook of this.appliedHooks) hook(mutation);
    this.mutations++;
    if (this.wal.bytes > this.options.snapshotWalBytes && this.snapshotting === undefined) {
      this.snapshotting = this.snapshot()
        .catch((error: unknown) => this.logger.error({ err: error, index: this.id }, 'snapshot failed'))
        .finally(() => {
          this.snapshotting = undefined;
        });
    }
    return touched;
  }

  /** Writes a snapshot of the current state and removes the logs and snapshots it supersedes. */
  async snapshot(): Promise<void> {
    const seq = this.walSeq + 1;
    const chunks = await this.wal.rotate(path.join(this.dir, walName(seq)), () => captureSnapshot(this.index));
    this.walSeq = seq;
    fsyncDirectory(this.dir);
    const target = path.join(this.dir, snapshotName(seq));
    const temporary = `${target}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.length) written += (await handle.write(chunk, written, chunk.length - written)).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
    fsyncDirectory(this.dir);
    for (const file of readdirSync(this.dir)) {
      const m = /^(wal|snapshot)-(\d+)\.(log|bin)$/.exec(file);
      if (m && Number(m[2]) < seq) await unlink(path.join(this.dir, file));
    }
    this.logger.info({ index: this.id, seq }, 'snapshot written');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.snapshotting) await this.snapshotting;
    await this.wal.close();
  }

  get healthy(): boolean {
    return this.wal.healthy;
  }

  get walBytes(): number {
    return this.wal.bytes;
  }
}

function replaySnapshot(file: string, index: VectorIndex): boolean {
  const scan = scanRecords(readFileSync(file));
  if (scan.problem !== undefined) return false;
  let records = 0;
  for (const payload of scan.payloads) {
    const decoded = decodePayload(payload);
    if (decoded.type === 'snapshotEnd') return decoded.recordCount === records;
    index.apply(decoded);
    records++;
  }
  return false;
}
