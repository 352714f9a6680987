// The JetStream log (CONIFER_NATS_URL set; docs/REPLICATION.md). One stream per index, one subject, file
// storage, nothing discarded by limits: the stream is trimmed explicitly, below the oldest snapshot kept
// in the Object Store. Every replica of an index consumes its stream in order from its last applied
// sequence and applies each mutation (the same encoded Mutation as the local WAL's records), so replicas
// that applied sequence N hold the same state. A write is published with a Nats-Msg-Id (the server drops
// a re-sent copy within its duplicate window), acknowledged by the stream's replicas, and answered once
// this node's own consumer has applied it.
//
// Snapshots: a replica writes a local snapshot (DurableIndex; its files are opaque here) stamped with
// the stream position it covers, and uploads those files to the bucket as <indexId>/<position>/<file>,
// with a manifest written last (a snapshot without one is incomplete and ignored). The newest two are
// kept; the stream is purged below the older one. A replica without local state starts from the newest
// snapshot and the stream after it.
import { createReadStream, createWriteStream, linkSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InvalidArgumentError, UnavailableError } from '@conifer/contracts';
import type { Mutation } from '@conifer/engine';
import {
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { DurableIndex } from '../durable-index.js';
import { decodePayload, encodeMutation } from '../wal-codec.js';
import { stalePositionFiles, type IndexLog, type LoggedWrite, type ReplicaState } from './index-log.js';

export interface JetStreamOptions {
  servers: string;
  /** Replicas of each stream (and of the snapshot bucket) on the NATS cluster. */
  streamReplicas: number;
  /** Prefix of stream, subject and bucket names ('' in production; unique per test run). */
  prefix: string;
  /** How long a publish waits for the stream's acknowledgement. */
  publishTimeoutMs: number;
  /** How long a write, once acknowledged by the stream, waits for this node to apply it. */
  applyTimeoutMs: number;
  /** Take and upload a snapshot after this many bytes of log applied since the last one. */
  snapshotLogBytes: number;
  /** Snapshots kept per index in the bucket. */
  snapshotsKept: number;
}

const DEFAULT_JETSTREAM_OPTIONS: Omit<JetStreamOptions, 'servers'> = {
  streamReplicas: 1,
  prefix: '',
  publishTimeoutMs: 5000,
  applyTimeoutMs: 10_000,
  snapshotLogBytes: 256 * 1024 * 1024,
  snapshotsKept: 2,
};

const MANIFEST = 'manifest.json';
/** A consumer that delivers nothing for this long while entries are known to wait is recreated. */
const STALL_MS = 3000;
/** How often an idle replica asks the stream for its last sequence (status; stall detection). */
const STREAM_CHECK_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

interface Manifest {
  indexId: string;
  position: number;
  files: string[];
  createdAt: string;
}

export interface RemoteSnapshot {
  position: number;
  files: string[];
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The node's connection to NATS and the names it uses (one per process). */
export class JetStreamHub {
  connected = false;
  private bucket: ObjectStore | undefined;
  private readonly streamsKnown = new Set<string>();

  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly options: JetStreamOptions,
    private readonly logger: Logger,
  ) {
    this.connected = true;
    void this.watchStatus();
  }

  /** Connects (waiting for NATS when it is not up yet) and retries for ever when the connection drops. */
  static async connect(options: Partial<JetStreamOptions> & { servers: string }, logger: Logger): Promise<JetStreamHub> {
    const full = { ...DEFAULT_JETSTREAM_OPTIONS, ...options };
    const nc = await connect({
      servers: full.servers.split(',').map((s) => s.trim()),
      name: 'conifer-vector-store',
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
    });
    const js = jetstream(nc, { timeout: full.publishTimeoutMs });
    // No account check here: a NATS cluster that is still electing its JetStream leader answers later.
    const jsm = await jetstreamManager(nc, { timeout: full.publishTimeoutMs, checkAPI: false });
    logger.info({ servers: full.servers }, 'connected to NATS (JetStream log)');
    return new JetStreamHub(nc, js, jsm, full, logger);
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') {
        if (this.connected) this.logger.warn('lost the connection to NATS; writes answer 503 until it is back');
        this.connected = false;
      } else if (status.type === 'reconnect') {
        this.logger.info('reconnected to NATS');
        this.connected = true;
      }
    }
    this.connected = false;
  }

  streamName(indexId: string): string {
    return `${this.options.prefix === '' ? '' : `${this.options.prefix}_`}CONIFER_IDX_${indexId.replaceAll('-', '')}`;
  }

  subject(indexId: string): string {
    return `${this.options.prefix === '' ? '' : `${this.options.prefix}.`}conifer.idx.${indexId}`;
  }

  bucketName(): string {
    return `${this.options.prefix === '' ? '' : `${this.options.prefix}-`}conifer-snapshots`;
  }

  /** Creates the index's stream when missing; returns its first and last sequence. */
  async ensureStream(indexId: string): Promise<{ firstSeq: number; lastSeq: number; messages: number }> {
    const name = this.streamName(indexId);
    try {
      const info = await this.jsm.streams.info(name);
      this.streamsKnown.add(name);
      return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, messages: info.state.messages };
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const info = await this.jsm.streams.add({
      name,
      subjects: [this.subject(indexId)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      num_replicas: this.options.streamReplicas,
    });
    this.streamsKnown.add(name);
    this.logger.info({ index: indexId, stream: name, replicas: this.options.streamReplicas }, 'created the index stream');
    return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq, messages: info.state.messages };
  }

  private async objects(): Promise<ObjectStore> {
    this.bucket ??= await new Objm(this.js).create(this.bucketName(), { storage: StorageType.File, replicas: this.options.streamReplicas });
    return this.bucket;
  }

  /** Complete snapshots of an index in the bucket, newest first. */
  async snapshots(indexId: string): Promise<RemoteSnapshot[]> {
    const bucket = await this.objects();
    const prefix = `${indexId}/`;
    const found: RemoteSnapshot[] = [];
    for (const info of await bucket.list()) {
      if (!info.name.startsWith(prefix) || !info.name.endsWith(`/${MANIFEST}`)) continue;
      const blob = await bucket.getBlob(info.name);
      if (blob === null) continue;
      const manifest = JSON.parse(Buffer.from(blob).toString('utf8')) as Manifest;
      found.push({ position: manifest.position, files: manifest.files });
    }
    return found.sort((a, b) => b.position - a.position);
  }

  /** Uploads a snapshot's files (from `dir`), the manifest last. */
  async uploadSnapshot(indexId: string, position: number, dir: string, files: string[]): Promise<void> {
    const bucket = await this.objects();
    for (const file of files) {
      const data = Readable.toWeb(createReadStream(path.join(dir, file))) as unknown as ReadableStream<Uint8Array>;
      await bucket.put({ name: `${indexId}/${position}/${file}` }, data);
    }
    const manifest: Manifest = { indexId, position, files, createdAt: new Date().toISOString() };
    await bucket.putBlob({ name: `${indexId}/${position}/${MANIFEST}` }, Buffer.from(JSON.stringify(manifest)));
  }

  /** Downloads a snapshot's files into `dir` (which must exist). */
  async downloadSnapshot(indexId: string, snapshot: RemoteSnapshot, dir: string): Promise<void> {
    const bucket = await this.objects();
    for (const file of snapshot.files) {
      const result = await bucket.get(`${indexId}/${snapshot.position}/${file}`);
      if (result === null) throw new Error(`snapshot ${indexId}/${snapshot.position} lacks ${file}`);
      const source = Readable.fromWeb(result.data as unknown as WebReadableStream<Uint8Array>);
      await pipeline(source, createWriteStream(path.join(dir, file), { flush: true }) as Writable);
      const failure = await result.error;
      if (failure) throw failure;
    }
  }

  /** Keeps the newest snapshots, deletes the rest and purges the stream below the oldest kept. */
  async trim(indexId: string): Promise<void> {
    const all = await this.snapshots(indexId);
    if (all.length === 0) return;
    const kept = all.slice(0, this.options.snapshotsKept);
    const oldestKept = kept[kept.length - 1]!.position;
    const bucket = await this.objects();
    for (const old of all.slice(this.options.snapshotsKept)) {
      // Manifest first: a half-deleted snapshot is then never chosen.
      await bucket.delete(`${indexId}/${old.position}/${MANIFEST}`);
      for (const file of old.files) await bucket.delete(`${indexId}/${old.position}/${file}`);
    }
    if (oldestKept > 0) await this.jsm.streams.purge(this.streamName(indexId), { seq: oldestKept + 1 });
  }

  /** Deletes the index's stream and snapshots (the index itself is deleted). */
  async purgeIndex(indexId: string): Promise<void> {
    try {
      await this.jsm.streams.delete(this.streamName(indexId));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.streamsKnown.delete(this.streamName(indexId));
    const bucket = await this.objects();
    const prefix = `${indexId}/`;
    for (const info of await bucket.list()) if (info.name.startsWith(prefix)) await bucket.delete(info.name);
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: number; name?: string; message?: string };
  return e.name === 'StreamNotFoundError' || e.code === 10059 || /stream not found/i.test(e.message ?? '');
}

interface Waiter {
  seq: number;
  resolve: (ok: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

interface OwnWrite {
  resolve: (touched: number) => void;
  reject: (error: Error) => void;
}

/** One replica of one index: its consumer and its writes. */
export class JetStreamIndexLog implements IndexLog {
  readonly kind = 'jetstream' as const;
  private applied: number;
  private last: number | undefined;
  private caughtUp = false;
  private stopped = false;
  private messages: ConsumerMessages | undefined;
  private running: Promise<void> | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly own = new Map<string, OwnWrite>();
  private bytesSinceSnapshot = 0;
  private lastProgress = Date.now();
  private lastStreamCheck = 0;
  private missingLogged = false;
  private snapshotting: Promise<number | undefined> | undefined;
  /** A clean stop snapshots locally when at least this much log was applied since the last snapshot. */
  localSnapshotOnCloseBytes = 1024 * 1024;
  /** Set when the stream no longer holds the entries after our position (trimmed meanwhile). */
  gap = false;

  constructor(
    private readonly hub: JetStreamHub,
    private readonly durable: DurableIndex,
    startPosition: number,
    private readonly logger: Logger,
    /** Called when the stream was trimmed past this replica's position: it must restart from a snapshot. */
    private readonly onGap: (indexId: string) => void,
  ) {
    this.applied = startPosition;
    durable.logPosition = () => this.applied;
    removeStalePositions(durable.dir);
  }

  get appliedSeq(): number {
    return this.applied;
  }

  get lastSeq(): number | undefined {
    return this.last;
  }

  get state(): ReplicaState {
    return this.caughtUp && !this.gap ? 'ready' : 'catching-up';
  }

  /** Starts consuming after `applied`; `lastSeq` is the stream's last sequence when known. */
  start(lastSeq: number): void {
    this.last = lastSeq;
    if (lastSeq <= this.applied) this.caughtUp = true;
    this.running = this.consumeLoop();
  }

  private async consumeLoop(): Promise<void> {
    const stream = this.hub.streamName(this.durable.id);
    let pause = 500;
    while (!this.stopped) {
      let watchdog: NodeJS.Timeout | undefined;
      try {
        const consumer = await withTimeout(
          this.hub.js.consumers.get(
            stream,
            this.applied > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.applied + 1 } : { deliver_policy: DeliverPolicy.All },
          ),
          this.hub.options.publishTimeoutMs,
          'creating the log consumer',
        );
        const messages = await withTimeout(consumer.consume({ max_messages: 256, expires: 5000, idle_heartbeat: 1000 }), this.hub.options.publishTimeoutMs, 'starting the log consumer');
        this.messages = messages;
        if (this.stopped) messages.stop();
        this.lastProgress = Date.now();
        // A consumer can go quiet for good when the NATS server holding it dies (seen on a 3-node cluster:
        // the library's own recovery did not resume it): when entries are known to be waiting (a write of
        // this node, a read asking for a sequence, or the stream's last sequence) and none arrived for a
        // while, start a new consumer after the last applied entry.
        watchdog = setInterval(() => {
          if (this.stopped) return;
          const behind = this.own.size > 0 || this.waiters.length > 0 || (this.last ?? 0) > this.applied;
          if (behind && Date.now() - this.lastProgress > STALL_MS) {
            this.logger.warn({ index: this.durable.id, applied: this.applied, last: this.last }, 'log consumer stalled; recreating it');
            messages.stop();
          } else if (!behind && Date.now() - this.lastStreamCheck > STREAM_CHECK_MS) {
            this.lastStreamCheck = Date.now();
            void this.hub.jsm.streams
              .info(stream)
              .then((info) => {
                this.last = Math.max(this.last ?? 0, info.state.last_seq);
              })
              .catch(() => undefined);
          }
        }, 1000);
        watchdog.unref();
        void (async () => {
          for await (const note of messages.status()) {
            if (note.type === 'heartbeats_missed' && note.count >= 2) {
              this.logger.warn({ index: this.durable.id }, 'log consumer missed heartbeats; recreating it');
              messages.stop();
              break;
            }
          }
        })().catch(() => undefined);
        for await (const m of messages) {
          this.lastProgress = Date.now();
          this.handle(m);
          if (this.gap) {
            messages.stop();
            break;
          }
        }
      } catch (error) {
        pause = 500;
        if (isNotFound(error)) {
          // The index was deleted (purged) elsewhere: the gateway drops this replica next; ask seldom meanwhile.
          pause = 5000;
          if (!this.missingLogged) this.logger.warn({ index: this.durable.id }, 'the index stream does not exist (index deleted?)');
          this.missingLogged = true;
        } else if (!this.stopped) this.logger.warn({ index: this.durable.id, err: message(error) }, 'log consumer failed; retrying');
      } finally {
        clearInterval(watchdog);
      }
      if (this.gap) {
        this.onGap(this.durable.id);
        return;
      }
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private handle(m: JsMsg): void {
    const seq = m.seq;
    this.last = Math.max(this.last ?? 0, seq + Math.max(0, m.info.pending));
    if (seq <= this.applied) return; // delivered again after the consumer was recreated
    if (seq !== this.applied + 1) {
      this.logger.warn({ index: this.durable.id, applied: this.applied, next: seq }, 'the log was trimmed past this replica; restarting it from a snapshot');
      this.gap = true;
      return;
    }
    const id = m.headers?.get('Nats-Msg-Id');
    const own = id === undefined || id === '' ? undefined : this.own.get(id);
    let touched = 0;
    let failure: Error | undefined;
    try {
      const decoded = decodePayload(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      if (decoded.type === 'snapshotEnd' || decoded.type === 'placedRecords' || decoded.type === 'graph' || decoded.type === 'values') throw new Error(`unexpected ${decoded.type} record in the log`);
      touched = this.durable.applyLogged(decoded as Mutation);
    } catch (error) {
      // Every replica meets the same entry in the same state and fails alike; skipping it keeps them equal.
      failure = error as Error;
      this.logger.error({ index: this.durable.id, seq, err: failure.message }, 'could not apply a log entry; skipped');
    }
    this.applied = seq;
    this.bytesSinceSnapshot += m.data.byteLength;
    if (m.info.pending === 0) this.caughtUp = true;
    if (own !== undefined) {
      this.own.delete(id!);
      if (failure === undefined) own.resolve(touched);
      else own.reject(failure);
    }
    if (this.waiters.length > 0) this.wake();
    if (this.bytesSinceSnapshot >= this.hub.options.snapshotLogBytes && this.snapshotting === undefined) void this.snapshot().catch(() => undefined);
  }

  private wake(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.seq <= this.applied) {
        this.waiters.splice(i, 1);
        if (w.timer) clearTimeout(w.timer);
        w.resolve(true);
      }
    }
  }

  waitApplied(seq: number, timeoutMs: number): Promise<boolean> {
    if (seq <= this.applied) return Promise.resolve(true);
    if (timeoutMs <= 0 || this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { seq, resolve, timer: undefined };
      waiter.timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  async append(mutation: Mutation): Promise<LoggedWrite> {
    if (this.stopped) throw new UnavailableError(`index ${this.durable.id} is closing`);
    if (!this.hub.connected) throw new UnavailableError('the replication log (NATS) is unreachable; retry the write');
    const limit = Math.max(64 * 1024, (this.hub.nc.info?.max_payload ?? 1024 * 1024) - 4096);
    let result: LoggedWrite = { seq: 0, touched: 0 };
    // An upsert larger than one NATS message goes as several (each applied whole, in order).
    for (const part of splitToFit(mutation, limit)) {
      const one = await this.publishOne(part);
      result = { seq: one.seq, touched: result.touched + one.touched };
    }
    return result;
  }

  private async publishOne(payload: Buffer): Promise<LoggedWrite> {
    const msgID = randomUUID();
    const applied = new Promise<number>((resolve, reject) => this.own.set(msgID, { resolve, reject }));
    applied.catch(() => undefined);
    let seq: number;
    try {
      const ack = await this.hub.js.publish(this.hub.subject(this.durable.id), payload, {
        msgID,
        timeout: this.hub.options.publishTimeoutMs,
        expect: { streamName: this.hub.streamName(this.durable.id) },
      });
      seq = ack.seq;
      if (ack.duplicate) {
        // Only a re-send of this very id (not done here) would be a duplicate; wait for the original.
        this.own.delete(msgID);
        if (!(await this.waitApplied(seq, this.hub.options.applyTimeoutMs))) throw new Error('not applied in time');
        return { seq, touched: 0 };
      }
    } catch (error) {
      this.own.delete(msgID);
      throw new UnavailableError(`the replication log did not acknowledge the write (${message(error)}); retry it`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new UnavailableError(`the write is logged (sequence ${seq}) but this replica has not applied it yet; read with X-Conifer-Min-Seq: ${seq}`)),
        this.hub.options.applyTimeoutMs,
      );
    });
    try {
      return { seq, touched: await Promise.race([applied, timeout]) };
    } finally {
      clearTimeout(timer);
      this.own.delete(msgID);
    }
  }

  /**
   * Writes a local snapshot at the current position and uploads it; resolves with its position
   * (undefined when the index had nothing new).
   */
  snapshot(): Promise<number | undefined> {
    this.snapshotting ??= this.snapshotAndUpload().finally(() => {
      this.snapshotting = undefined;
    });
    return this.snapshotting;
  }

  private async snapshotAndUpload(): Promise<number | undefined> {
    const since = this.bytesSinceSnapshot;
    this.bytesSinceSnapshot = 0;
    try {
      await this.durable.snapshot();
      removeStalePositions(this.durable.dir);
      const newest = this.durable.newestSnapshot;
      if (newest?.position === undefined) return undefined;
      // Hard links: a later snapshot may remove these files while they upload.
      const staging = `${this.durable.dir}.upload-${newest.seq}`;
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging);
      try {
        const files = this.durable.snapshotFiles(newest.seq);
        for (const file of files) linkSync(path.join(this.durable.dir, file), path.join(staging, file));
        const remote = await this.hub.snapshots(this.durable.id);
        if (remote.length > 0 && remote[0]!.position >= newest.position) return remote[0]!.position;
        await this.hub.uploadSnapshot(this.durable.id, newest.position, staging, files);
      } finally {
        rmSync(staging, { recursive: true, force: true });
      }
      await this.hub.trim(this.durable.id);
      this.logger.info({ index: this.durable.id, position: newest.position }, 'snapshot uploaded to the object store');
      return newest.position;
    } catch (error) {
      this.bytesSinceSnapshot += since;
      this.logger.error({ index: this.durable.id, err: message(error) }, 'snapshot upload failed');
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.messages?.stop();
    if (this.snapshotting) await this.snapshotting.catch(() => undefined);
    await this.running?.catch(() => undefined);
    // A clean stop leaves a local snapshot, so that the next start replays little of the stream.
    if (this.bytesSinceSnapshot >= this.localSnapshotOnCloseBytes && !this.gap) {
      await this.durable.snapshot().catch((error: unknown) => this.logger.warn({ index: this.durable.id, err: message(error) }, 'snapshot on close failed'));
    }
    for (const w of this.waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.resolve(false);
    }
    for (const [id, w] of this.own) {
      this.own.delete(id);
      w.reject(new UnavailableError(`index ${this.durable.id} is closing`));
    }
  }
}

function removeStalePositions(dir: string): void {
  for (const file of stalePositionFiles(readdirSync(dir))) rmSync(path.join(dir, file), { force: true });
}

/** The mutation encoded, split into several upserts when one payload would exceed `limit` bytes. */
function splitToFit(mutation: Mutation, limit: number): Buffer[] {
  const encoded = encodeMutation(mutation);
  if (encoded.length <= limit) return [encoded];
  if (mutation.type !== 'upsert' || mutation.records.length < 2) {
    throw new InvalidArgumentError(`the request is too large to replicate: its log entry of ${encoded.length} bytes exceeds the NATS message limit (${limit} bytes)`);
  }
  const half = Math.ceil(mutation.records.length / 2);
  return [
    ...splitToFit({ ...mutation, records: mutation.records.slice(0, half) }, limit),
    ...splitToFit({ ...mutation, records: mutation.records.slice(half) }, limit),
  ];
}
