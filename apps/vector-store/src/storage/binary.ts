// Little-endian binary writer/reader for WAL and snapshot records.

export class BinaryWriter {
  private buffer: Buffer;
  private offset = 0;

  constructor(initial = 256) {
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
    return this.buffer.subarray(0, this.offset);
  }
}

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
