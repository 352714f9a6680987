// Little-endian binary writer/reader for WAL and snapshot records.

export class BinaryWriter {
  private buffer: Buffer;
  private offset = 0;
  /** With `viewArrays`: the output so far, before `buffer[segmentStart, offset)`. */
  private readonly parts: Buffer[] = [];
  private segmentStart = 0;

  /**
   * `viewArrays`: float32 arrays of at least VIEWED_FLOATS values are not copied but kept as views, between
   * the writer's own segments (read with parts()): a WAL record's values go to disk from the request's own
   * array, without a copy into a fresh allocation whose pages the kernel must fault in (bench/RESULTS.md).
   */
  constructor(
    initial = 256,
    private readonly viewArrays = false,
  ) {
    this.buffer = Buffer.allocUnsafe(initial);
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.offset + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.offset);
    this.buffer = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer.writeUInt8(value, this.offset);
    this.offset += 1;
  }

  u32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value, this.offset);
    this.offset += 4;
  }

  string(value: string): void {
    const length = Buffer.byteLength(value);
    this.u32(length);
    this.ensure(length);
    this.buffer.write(value, this.offset, 'utf8');
    this.offset += length;
  }

  f32(value: number): void {
    this.ensure(4);
    this.buffer.writeFloatLE(value, this.offset);
    this.offset += 4;
  }

  f32Array(values: Float32Array): void {
    this.u32(values.length);
    const bytes = values.length * 4;
    if (this.viewArrays && values.length >= VIEWED_FLOATS) {
      this.parts.push(this.buffer.subarray(this.segmentStart, this.offset), Buffer.from(values.buffer, values.byteOffset, bytes));
      this.segmentStart = this.offset;
      return;
    }
    this.ensure(bytes);
    Buffer.from(values.buffer, values.byteOffset, bytes).copy(this.buffer, this.offset);
    this.offset += bytes;
  }

  u32Array(values: Uint32Array): void {
    this.u32(values.length);
    const bytes = values.length * 4;
    this.ensure(bytes);
    Buffer.from(values.buffer, values.byteOffset, bytes).copy(this.buffer, this.offset);
    this.offset += bytes;
  }

  finish(): Buffer {
    if (this.parts.length > 0) throw new Error('a writer with viewed arrays is read with parts()');
    return this.buffer.subarray(0, this.offset);
  }

  /** The output as consecutive pieces (the viewed arrays among them), and its length. */
  finishParts(): { parts: Buffer[]; bytes: number } {
    const parts = [...this.parts, this.buffer.subarray(this.segmentStart, this.offset)];
    let bytes = 0;
    for (const part of parts) bytes += part.length;
    return { parts, bytes };
  }
}

/** Float32 arrays from this length are viewed, not copied (a 768-d vector is 3 KB; a view costs a Buffer object). */
const VIEWED_FLOATS = 64;

export class CorruptRecordError extends Error {}

export class BinaryReader {
  private offset = 0;

  constructor(private readonly buffer: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.buffer.length) throw new CorruptRecordError('record ends early');
  }

  u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }

  u32(): number {
    this.need(4);
    const v = this.buffer.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  string(): string {
    const length = this.u32();
    this.need(length);
    const s = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }

  f32(): number {
    this.need(4);
    const v = this.buffer.readFloatLE(this.offset);
    this.offset += 4;
    return v;
  }

  f32Array(): Float32Array {
    const length = this.u32();
    this.need(length * 4);
    const out = new Float32Array(length);
    Buffer.from(out.buffer).set(this.buffer.subarray(this.offset, this.offset + length * 4));
    this.offset += length * 4;
    return out;
  }

  u32Array(): Uint32Array {
    const length = this.u32();
    this.need(length * 4);
    const out = new Uint32Array(length);
    Buffer.from(out.buffer).set(this.buffer.subarray(this.offset, this.offset + length * 4));
    this.offset += length * 4;
    return out;
  }

  get done(): boolean {
    return this.offset === this.buffer.length;
  }
}
