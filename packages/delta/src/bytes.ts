/**
 * Growable byte writer and a bounds-checked reader for the delta's binary program. The reader never
 * reads past its end and never returns a number beyond Number.MAX_SAFE_INTEGER: every failure is a
 * DeltaCorrupt, so a hostile delta cannot surface a RangeError.
 */
import { DeltaCorrupt } from './errors.js';

export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer[this.length++] = value & 0xff;
  }

  /** Unsigned LEB128 (7 bits per byte), for non-negative safe integers. */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint ${value}`);
    let v = value;
    while (v >= 0x80) {
      this.u8((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.u8(v);
  }

  /** Signed integer, zig-zag mapped (0, -1, 1, -2, … -> 0, 1, 2, 3, …). */
  svarint(value: number): void {
    this.varint(value < 0 ? -2 * value - 1 : 2 * value);
  }

  f64(value: number): void {
    this.ensure(8);
    new DataView(this.buffer.buffer).setFloat64(this.length, value, true);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.ensure(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class ByteReader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new DeltaCorrupt(`${this.what} is truncated`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.offset++]!;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (!Number.isSafeInteger(value)) break;
      if ((byte & 0x80) === 0) return value;
      scale *= 0x80;
    }
    throw new DeltaCorrupt(`${this.what}: integer out of range`);
  }

  svarint(): number {
    const z = this.varint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  f64(): number {
    this.need(8);
    const value = this.view.getFloat64(this.offset, true);
    this.offset += 8;
    return value;
  }

  take(count: number): Uint8Array {
    this.need(count);
    const out = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }
}
