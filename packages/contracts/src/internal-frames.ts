// The framed internal protocol between the gateway and a vector store (issue 13): one long-lived connection
// carrying many requests at once, each a stream of frames tagged with a request id, instead of one HTTP/1.1
// exchange per request. It is reached by an HTTP Upgrade on the store's own port (or Unix socket), so the
// internal token is checked once when the connection is set up; after the 101 answer both sides speak frames.
// The public API is unchanged: bodies are the same JSON bytes, answers carry the store's status and headers.
//
// Frame: u32 length of what follows | u8 type | u8 flags | u32 stream id | payload (length − 6 bytes).
//   REQUEST  (gateway → store)  payload: strings [method, path, name₁, value₁, …] (the headers that matter)
//   RESPONSE (store → gateway)  payload: u16 status, strings [name₁, value₁, …]
//   DATA     (both)             payload: body bytes
//   CANCEL   (both)             gateway → store: the answer is no longer wanted (time-out, client gone);
//                               store → gateway: the answer broke off (as a reset socket would tell)
//   WINDOW   (gateway → store)  payload: u32 more answer bytes the gateway will take on this stream
// Flow control per answer: the store sends at most ANSWER_WINDOW_BYTES of an answer's body beyond what the gateway
// has granted with WINDOW frames, so a client reading a large answer slowly holds the store's sending of that
// answer only (as a paused socket would over HTTP), never the connection or the gateway's memory.
// A string is u16 byte length + UTF-8. Flag END: the sender's side of the stream is complete (a REQUEST or
// RESPONSE with END has no body; the last DATA frame carries it). Bodies larger than MAX_DATA_BYTES are cut into
// several DATA frames, so that a large upsert never holds up the other requests on the connection for long.

/** Path of the Upgrade request that turns an HTTP connection to the store into a framed one. */
export const FRAMES_PATH = '/internal/frames';
/** Value of the Upgrade header (and protocol version). */
export const FRAMES_PROTOCOL = 'conifer-frames/1';

export const FrameType = { Request: 1, Response: 2, Data: 3, Cancel: 4, Window: 5 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
export const FLAG_END = 1;
/** Answer bytes a store may send on a stream before the gateway grants more (WINDOW). */
export const ANSWER_WINDOW_BYTES = 1024 * 1024;

const HEADER_BYTES = 10; // length (4) + type (1) + flags (1) + stream id (4)
/** Largest body slice in one DATA frame. */
export const MAX_DATA_BYTES = 256 * 1024;
/** Largest frame a decoder accepts (a head is at most 64 KiB of strings; a DATA frame MAX_DATA_BYTES). */
export const MAX_FRAME_BYTES = MAX_DATA_BYTES + HEADER_BYTES;
const MAX_STRING_BYTES = 0xffff;

export interface Frame {
  readonly type: FrameType;
  readonly flags: number;
  readonly stream: number;
  /** A view into the received bytes (no copy): consume it before the next chunk, or copy it. */
  readonly payload: Buffer;
}

/** A frame that cannot be read: the connection it came on must be closed (its state is unknown). */
export class FrameProtocolError extends Error {
  readonly code = 'CONIFER_FRAME_PROTOCOL';
}

function stringsLength(strings: readonly string[]): number {
  let total = 0;
  for (const text of strings) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_STRING_BYTES) throw new FrameProtocolError(`frame string of ${bytes} bytes is longer than ${MAX_STRING_BYTES}`);
    total += 2 + bytes;
  }
  return total;
}

function writeHeader(target: Buffer, at: number, payloadBytes: number, type: FrameType, flags: number, stream: number): number {
  target.writeUInt32BE(payloadBytes + 6, at);
  target[at + 4] = type;
  target[at + 5] = flags;
  target.writeUInt32BE(stream >>> 0, at + 6);
  return at + HEADER_BYTES;
}

function writeStrings(target: Buffer, at: number, strings: readonly string[]): number {
  for (const text of strings) {
    const bytes = target.write(text, at + 2, 'utf8');
    target.writeUInt16BE(bytes, at);
    at += 2 + bytes;
  }
  return at;
}

/**
 * A request head (method, path, header pairs) followed by its body, as one buffer of frames: the head carries
 * END when there is no body; the body is cut into DATA frames of at most MAX_DATA_BYTES, the last with END.
 */
export function encodeRequest(stream: number, method: string, path: string, headers: readonly string[], body: Buffer | undefined): Buffer {
  const parts = encodeRequestFrames(stream, method, path, headers, body);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * The bytes of encodeRequest as a list of buffers to write in turn, the body's bytes not copied: the head frame
 * with the first DATA frame's header after it, then the body's slices, each later one after its own DATA frame
 * header. A sender writing them to a corked socket sends them in one writev; the body is neither copied into a
 * new buffer (for a 768-d query an 8 KB buffer per request; for a 2 MB upsert, 2 MB) nor changed, so it must not
 * be changed until written. A body given as several buffers (as it was received, in chunks) is sent as they
 * are, one DATA frame each (cut at MAX_DATA_BYTES), without joining them first.
 */
export function encodeRequestFrames(stream: number, method: string, path: string, headers: readonly string[], body: Buffer | readonly Buffer[] | undefined): Buffer[] {
  const strings = [method, path, ...headers];
  const headBytes = stringsLength(strings);
  if (headBytes + 6 > MAX_FRAME_BYTES) throw new FrameProtocolError('request head too large');
  const chunks = body === undefined ? [] : Buffer.isBuffer(body) ? [body] : (body as readonly Buffer[]);
  const slices: Buffer[] = [];
  for (const chunk of chunks) {
    for (let start = 0; start < chunk.length; start += MAX_DATA_BYTES) {
      slices.push(start === 0 && chunk.length <= MAX_DATA_BYTES ? chunk : chunk.subarray(start, Math.min(start + MAX_DATA_BYTES, chunk.length)));
    }
  }
  const head = Buffer.allocUnsafe(HEADER_BYTES + headBytes + (slices.length === 0 ? 0 : HEADER_BYTES));
  let at = writeHeader(head, 0, headBytes, FrameType.Request, slices.length === 0 ? FLAG_END : 0, stream);
  at = writeStrings(head, at, strings);
  if (slices.length === 0) return [head];
  const parts: Buffer[] = [head];
  for (let i = 0; i < slices.length; i++) {
    const slice = slices[i]!;
    const flags = i === slices.length - 1 ? FLAG_END : 0;
    if (i === 0) writeHeader(head, at, slice.length, FrameType.Data, flags, stream);
    else parts.push(writeDataHeader(slice.length, flags, stream));
    parts.push(slice);
  }
  return parts;
}

function writeDataHeader(payloadBytes: number, flags: number, stream: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES);
  writeHeader(out, 0, payloadBytes, FrameType.Data, flags, stream);
  return out;
}

/** A response head (status, header pairs) followed by its body, like encodeRequest (end false: more DATA follows). */
export function encodeResponse(stream: number, status: number, headers: readonly string[], body: Buffer | undefined, end = true): Buffer {
  const headBytes = 2 + stringsLength(headers);
  if (headBytes + 6 > MAX_FRAME_BYTES) throw new FrameProtocolError('response head too large');
  return encodeHeadAndBody(
    FrameType.Response,
    stream,
    headBytes,
    (target, at) => {
      target.writeUInt16BE(status, at);
      return writeStrings(target, at + 2, headers);
    },
    body,
    end,
  );
}

function encodeHeadAndBody(type: FrameType, stream: number, headBytes: number, writeHead: (target: Buffer, at: number) => number, body: Buffer | undefined, end = true): Buffer {
  const bodyBytes = body === undefined ? 0 : body.length;
  const slices = bodyBytes === 0 ? 0 : Math.ceil(bodyBytes / MAX_DATA_BYTES);
  const out = Buffer.allocUnsafe(HEADER_BYTES + headBytes + slices * HEADER_BYTES + bodyBytes);
  let at = writeHeader(out, 0, headBytes, type, slices === 0 && end ? FLAG_END : 0, stream);
  at = writeHead(out, at);
  for (let i = 0; i < slices; i++) {
    const start = i * MAX_DATA_BYTES;
    const stop = Math.min(start + MAX_DATA_BYTES, bodyBytes);
    at = writeHeader(out, at, stop - start, FrameType.Data, end && i === slices - 1 ? FLAG_END : 0, stream);
    at += body!.copy(out, at, start, stop);
  }
  return out;
}

/** Body bytes as DATA frames (END on the last when `end`; an empty body with `end` is one empty DATA frame). */
export function encodeData(stream: number, body: Buffer, end: boolean): Buffer {
  const slices = Math.max(1, Math.ceil(body.length / MAX_DATA_BYTES));
  const out = Buffer.allocUnsafe(slices * HEADER_BYTES + body.length);
  let at = 0;
  for (let i = 0; i < slices; i++) {
    const start = i * MAX_DATA_BYTES;
    const stop = Math.min(start + MAX_DATA_BYTES, body.length);
    at = writeHeader(out, at, stop - start, FrameType.Data, end && i === slices - 1 ? FLAG_END : 0, stream);
    at += body.copy(out, at, start, stop);
  }
  return out;
}

export function encodeCancel(stream: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES);
  writeHeader(out, 0, 0, FrameType.Cancel, FLAG_END, stream);
  return out;
}

export function encodeWindow(stream: number, bytes: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 4);
  writeHeader(out, 0, 4, FrameType.Window, 0, stream);
  out.writeUInt32BE(bytes >>> 0, HEADER_BYTES);
  return out;
}

/** The strings of a REQUEST payload: [method, path, name₁, value₁, …]. */
export function decodeStrings(payload: Buffer, from = 0): string[] {
  const strings: string[] = [];
  let at = from;
  while (at < payload.length) {
    if (at + 2 > payload.length) throw new FrameProtocolError('truncated string length');
    const bytes = payload.readUInt16BE(at);
    at += 2;
    if (at + bytes > payload.length) throw new FrameProtocolError('truncated string');
    strings.push(payload.toString('utf8', at, at + bytes));
    at += bytes;
  }
  return strings;
}

export interface RequestHead {
  readonly method: string;
  readonly path: string;
  /** Header pairs, names lower-case as sent. */
  readonly headers: readonly string[];
}

export function decodeRequestHead(payload: Buffer): RequestHead {
  const strings = decodeStrings(payload);
  if (strings.length < 2 || strings.length % 2 !== 0) throw new FrameProtocolError('request head must be method, path and header pairs');
  return { method: strings[0]!, path: strings[1]!, headers: strings.slice(2) };
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: readonly string[];
}

export function decodeResponseHead(payload: Buffer): ResponseHead {
  if (payload.length < 2) throw new FrameProtocolError('response head without a status');
  const status = payload.readUInt16BE(0);
  const headers = decodeStrings(payload, 2);
  if (headers.length % 2 !== 0) throw new FrameProtocolError('response headers must be pairs');
  return { status, headers };
}

const TYPES = new Set<number>(Object.values(FrameType));

/**
 * Cuts a byte stream into frames, whatever the chunking: a frame split over several chunks is reassembled, several
 * frames in one chunk come out one by one (as views into that chunk, no copy). A malformed frame (unknown type,
 * a length out of bounds) throws FrameProtocolError; the decoder is then unusable and the connection must close.
 *
 * A frame split over chunks is copied once, when its last byte arrives: its pieces are kept until then (a
 * 256 KB DATA frame comes in four 64 KB socket reads; joining each read to what came before copied it 2.5 times,
 * the largest CPU cost of a framed upsert in the store, bench/RESULTS.md).
 *
 * `dataInPieces`: a DATA frame split over chunks is not joined at all but passed on as it arrives, as several
 * DATA frames of the same stream whose payloads are views into the chunks (END on the last piece only), for a
 * reader that joins a body's bytes anyway (the store's request bodies): each join is a fresh allocation whose
 * pages the kernel must fault in and zero, ~15× the cost of the copy itself on this machine (bench/RESULTS.md).
 */
export class FrameDecoder {
  /** The pieces of an incomplete frame (or of an incomplete header), in order. */
  private pieces: Buffer[] = [];
  private piecesBytes = 0;
  /** Bytes of the incomplete frame (header included), once its header is known; 0 before. */
  private needed = 0;

  /** Payload bytes still to come of a DATA frame passed on in pieces (dataInPieces), its flags and stream. */
  private dataLeft = 0;
  private dataFlags = 0;
  private dataStream = 0;

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly options: { dataInPieces?: boolean } = {},
  ) {}

  /** Bytes received but not yet a whole frame. */
  get buffered(): number {
    return this.piecesBytes;
  }

  push(chunk: Buffer): void {
    let data = chunk;
    if (this.dataLeft > 0) {
      data = this.passData(chunk);
      if (this.dataLeft > 0) return;
    } else if (this.piecesBytes > 0) {
      if (this.needed === 0) {
        // The header itself was split: join the few bytes held with this chunk's start, then decide.
        const headerTail = Math.min(chunk.length, HEADER_BYTES - this.piecesBytes);
        this.pieces.push(chunk.subarray(0, headerTail));
        this.piecesBytes += headerTail;
        if (this.piecesBytes < HEADER_BYTES) return;
        const header = Buffer.concat(this.pieces, this.piecesBytes);
        this.pieces = [header];
        this.needed = 4 + this.check(header, 0);
        chunk = chunk.subarray(headerTail);
        if (this.needed > HEADER_BYTES && this.startData(header)) {
          this.pieces = [];
          this.piecesBytes = 0;
          this.needed = 0;
          data = this.passData(chunk);
          if (this.dataLeft > 0) return;
          chunk = data;
        }
      }
    }
    if (this.piecesBytes > 0) {
      const missing = this.needed - this.piecesBytes;
      if (chunk.length < missing) {
        if (chunk.length > 0) {
          this.pieces.push(chunk);
          this.piecesBytes += chunk.length;
        }
        return;
      }
      this.pieces.push(chunk.subarray(0, missing));
      const frame = Buffer.concat(this.pieces, this.needed);
      this.pieces = [];
      this.piecesBytes = 0;
      this.needed = 0;
      this.emit(frame, 0, frame.length);
      data = chunk.subarray(missing);
    }
    let at = 0;
    const size = data.length;
    while (size - at >= HEADER_BYTES) {
      const end = at + 4 + this.check(data, at);
      if (end > size) break;
      this.emit(data, at, end);
      at = end;
    }
    if (at < size) {
      const rest = data.subarray(at);
      if (rest.length >= HEADER_BYTES && this.startData(rest)) {
        this.passData(rest.subarray(HEADER_BYTES));
        return;
      }
      // The start of a frame: kept as a view (copied into the whole frame when its end arrives).
      this.pieces.push(rest);
      this.piecesBytes = rest.length;
      this.needed = rest.length >= HEADER_BYTES ? 4 + this.check(rest, 0) : 0;
    }
  }

  /** With dataInPieces, begins passing on the incomplete DATA frame whose (checked) header starts `head`; else false. */
  private startData(head: Buffer): boolean {
    if (this.options.dataInPieces !== true || head[4] !== FrameType.Data) return false;
    this.dataLeft = head.readUInt32BE(0) - 6;
    this.dataFlags = head[5]!;
    this.dataStream = head.readUInt32BE(6);
    return true;
  }

  /** Passes on what `data` holds of the DATA frame in progress; returns the bytes after it. */
  private passData(data: Buffer): Buffer {
    const take = Math.min(this.dataLeft, data.length);
    if (take === 0) return data;
    this.dataLeft -= take;
    const flags = this.dataLeft === 0 ? this.dataFlags : this.dataFlags & ~FLAG_END;
    this.onFrame({ type: FrameType.Data, flags, stream: this.dataStream, payload: data.subarray(0, take) });
    return data.subarray(take);
  }

  /** The frame length field at `at` (after checking it and the type). */
  private check(data: Buffer, at: number): number {
    const length = data.readUInt32BE(at);
    if (length < 6 || length + 4 > MAX_FRAME_BYTES) throw new FrameProtocolError(`frame length ${length} out of bounds`);
    const type = data[at + 4]!;
    if (!TYPES.has(type)) throw new FrameProtocolError(`unknown frame type ${type}`);
    return length;
  }

  private emit(data: Buffer, at: number, end: number): void {
    this.onFrame({ type: data[at + 4] as FrameType, flags: data[at + 5]!, stream: data.readUInt32BE(at + 6), payload: data.subarray(at + HEADER_BYTES, end) });
  }
}

/** What a FrameWriter needs of a socket. */
interface CorkableSocket {
  cork(): void;
  uncork(): void;
  write(bytes: Uint8Array): boolean;
}

/**
 * Frames written to one connection during one turn of the event loop leave in one write: the first write of a
 * turn corks the socket and a setImmediate (which runs once the turn's I/O callbacks are done) uncorks it, so
 * the 16 requests (or answers) that arrived together go out as one writev instead of 16 writes, and wake the
 * peer once. A lone frame waits for nothing but the end of the current turn.
 */
export class FrameWriter {
  private corked = false;

  constructor(private readonly socket: CorkableSocket) {}

  /** socket.write's answer: false when the socket's buffer is over its mark (wait for 'drain'). */
  write(bytes: Uint8Array): boolean {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.flush);
    }
    return this.socket.write(bytes);
  }

  private readonly flush = (): void => {
    this.corked = false;
    this.socket.uncork();
  };
}
