/**
 * Byte layouts of the encodings, little-endian throughout (what TF.js itself assumes: it views shard
 * bytes through typed arrays). Stock encodings hold values only; ours put their parameters first:
 *   int8-per-channel  [C x f32 scales][N x i8]
 *   palette           [2^bits x f32 centroids][ceil(N*bits/8) packed indices, low nibble first]
 *   sparse-rans       [C x f32 scales][rANS stream of the i8 symbols + 128]
 * where channels are the trailing dims from `axis` on (channel = flat index mod C). That is the output
 * channel for Conv2D [h,w,in,out] and Dense [in,out] kernels (axis = last), and the in x mult channel for
 * DepthwiseConv2D kernels [h,w,in,mult] (axis = 2), each of which has its own scale.
 */
import { float16BitsToFloat32 } from './float16.js';
import { ransDecode, ransEncode } from './rans.js';
import type { Encoding, TensorRecord } from './types.js';

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, d) => product * d, 1);
}

/** Number of per-channel scales for channels spanning the dims from `axis` to the end. */
export function channelCount(shape: readonly number[], axis: number): number {
  return elementCount(shape.slice(axis));
}

function copyBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}

function readFloat32s(bytes: Uint8Array, offset: number, count: number): Float32Array {
  // copy so the view is 4-byte aligned whatever the shard offset was
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4));
}

function toNumbers(values: Float32Array): number[] {
  return Array.from(values);
}

// ---------------------------------------------------------------- packing (used by quantize)

export function packFloat32(name: string, shape: readonly number[], values: Float32Array): TensorRecord {
  return { name, shape: [...shape], dtype: 'float32', encoding: { kind: 'float32' }, bytes: copyBytes(values) };
}

export function packFloat16(name: string, shape: readonly number[], bits: Uint16Array): TensorRecord {
  return { name, shape: [...shape], dtype: 'float32', encoding: { kind: 'float16' }, bytes: copyBytes(bits) };
}

export function packAffine(
  name: string,
  shape: readonly number[],
  params: { bits: 8 | 16; scale: number; min: number },
  q: Uint8Array | Uint16Array,
): TensorRecord {
  return {
    name,
    shape: [...shape],
    dtype: 'float32',
    encoding: { kind: 'affine', bits: params.bits, scale: params.scale, min: params.min },
    bytes: copyBytes(q),
  };
}

export function packInt8PerChannel(
  name: string,
  shape: readonly number[],
  axis: number,
  scales: Float32Array,
  q: Int8Array,
): TensorRecord {
  const bytes = new Uint8Array(scales.length * 4 + q.length);
  bytes.set(copyBytes(scales), 0);
  bytes.set(new Uint8Array(q.buffer, q.byteOffset, q.length), scales.length * 4);
  return {
    name,
    shape: [...shape],
    dtype: 'float32',
    encoding: { kind: 'int8-per-channel', axis, scales: toNumbers(scales) },
    bytes,
  };
}

export function packPalette(
  name: string,
  shape: readonly number[],
  bits: 4 | 8,
  centroids: Float32Array,
  indices: Uint8Array,
): TensorRecord {
  if (centroids.length !== 1 << bits) throw new RangeError(`palette${bits} needs ${1 << bits} centroids`);
  const packedLength = Math.ceil((indices.length * bits) / 8);
  const bytes = new Uint8Array(centroids.length * 4 + packedLength);
  bytes.set(copyBytes(centroids), 0);
  const base = centroids.length * 4;
  if (bits === 8) bytes.set(indices, base);
  else
    for (let i = 0; i < indices.length; i++) {
      const k = base + (i >> 1);
      bytes[k] = bytes[k]! | ((indices[i]! & 0x0f) << ((i & 1) * 4));
    }
  return {
    name,
    shape: [...shape],
    dtype: 'float32',
    encoding: { kind: 'palette', bits, centroids: toNumbers(centroids) },
    bytes,
  };
}

export function packSparseRans(
  name: string,
  shape: readonly number[],
  axis: number,
  scales: Float32Array,
  q: Int8Array,
): TensorRecord {
  const symbols = new Uint8Array(q.length);
  for (let i = 0; i < q.length; i++) symbols[i] = q[i]! + 128;
  const stream = ransEncode(symbols);
  const bytes = new Uint8Array(scales.length * 4 + stream.length);
  bytes.set(copyBytes(scales), 0);
  bytes.set(stream, scales.length * 4);
  return {
    name,
    shape: [...shape],
    dtype: 'float32',
    encoding: { kind: 'sparse-rans', axis, scales: toNumbers(scales) },
    bytes,
  };
}

// ---------------------------------------------------------------- layout facts

/** Byte length of a tensor whose length follows from its shape, or undefined (sparse-rans). */
export function fixedByteLength(shape: readonly number[], encoding: EncodingLayout): number | undefined {
  const n = elementCount(shape);
  switch (encoding.kind) {
    case 'float32':
    case 'int32':
      return n * 4;
    case 'float16':
      return n * 2;
    case 'affine':
      return n * (encoding.bits / 8);
    case 'int8-per-channel':
      return channelCount(shape, encoding.axis) * 4 + n;
    case 'palette':
      return (1 << encoding.bits) * 4 + Math.ceil((n * encoding.bits) / 8);
    case 'sparse-rans':
      return undefined; // variable: the manifest carries byteLength
  }
}

/** The structural part of an encoding, known before the payload is parsed. */
export type EncodingLayout =
  | { readonly kind: 'float32' | 'int32' | 'float16' }
  | { readonly kind: 'affine'; readonly bits: 8 | 16; readonly scale: number; readonly min: number }
  | { readonly kind: 'int8-per-channel' | 'sparse-rans'; readonly axis: number }
  | { readonly kind: 'palette'; readonly bits: 4 | 8 };

/** Parses the parameters held in the payload; throws PayloadError on inconsistency. */
export class PayloadError extends Error {}

export function parseEncoding(shape: readonly number[], layout: EncodingLayout, bytes: Uint8Array): Encoding {
  switch (layout.kind) {
    case 'float32':
    case 'int32':
    case 'float16':
      return { kind: layout.kind };
    case 'affine':
      return { kind: 'affine', bits: layout.bits, scale: layout.scale, min: layout.min };
    case 'int8-per-channel':
    case 'sparse-rans': {
      const c = channelCount(shape, layout.axis);
      if (bytes.length < c * 4) throw new PayloadError('shorter than its scales');
      return { kind: layout.kind, axis: layout.axis, scales: toNumbers(readFloat32s(bytes, 0, c)) };
    }
    case 'palette': {
      const k = 1 << layout.bits;
      if (bytes.length < k * 4) throw new PayloadError('shorter than its centroids');
      return { kind: 'palette', bits: layout.bits, centroids: toNumbers(readFloat32s(bytes, 0, k)) };
    }
  }
}

// ---------------------------------------------------------------- decoding

/** Quantized int8 symbols of a per-channel or sparse tensor (throws PayloadError on a corrupt stream). */
export function int8Symbols(t: TensorRecord): Int8Array {
  const n = elementCount(t.shape);
  if (t.encoding.kind === 'int8-per-channel') {
    const offset = t.encoding.scales.length * 4;
    return new Int8Array(t.bytes.buffer.slice(t.bytes.byteOffset + offset, t.bytes.byteOffset + offset + n));
  }
  if (t.encoding.kind === 'sparse-rans') {
    const offset = t.encoding.scales.length * 4;
    let symbols: Uint8Array;
    try {
      symbols = ransDecode(t.bytes.subarray(offset), n);
    } catch (error) {
      throw new PayloadError((error as Error).message);
    }
    const q = new Int8Array(n);
    for (let i = 0; i < n; i++) {
      const v = symbols[i]! - 128;
      if (v < -127) throw new PayloadError('symbol -128 is outside symmetric int8');
      q[i] = v;
    }
    return q;
  }
  throw new TypeError(`${t.name} is not int8 coded`);
}

/** Dequantized values, exactly as stock TF.js computes them for the stock encodings. */
export function decodeTensor(t: TensorRecord): Float32Array {
  const n = elementCount(t.shape);
  const e = t.encoding;
  switch (e.kind) {
    case 'float32':
      return readFloat32s(t.bytes, 0, n);
    case 'int32':
      return Float32Array.from(new Int32Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + n * 4)));
    case 'float16': {
      const bits = new Uint16Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + n * 2));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = float16BitsToFloat32(bits[i]!);
      return out;
    }
    case 'affine': {
      const q =
        e.bits === 8
          ? t.bytes.subarray(0, n)
          : new Uint16Array(t.bytes.buffer.slice(t.bytes.byteOffset, t.bytes.byteOffset + n * 2));
      const out = new Float32Array(n);
      // same expression, in double precision, as tfjs-core decodeWeight: v * scale + min
      for (let i = 0; i < n; i++) out[i] = q[i]! * e.scale + e.min;
      return out;
    }
    case 'int8-per-channel':
    case 'sparse-rans': {
      const q = int8Symbols(t);
      const c = e.scales.length;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = q[i]! * e.scales[i % c]!;
      return out;
    }
    case 'palette': {
      const base = e.centroids.length * 4;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const index = e.bits === 8 ? t.bytes[base + i]! : (t.bytes[base + (i >> 1)]! >> ((i & 1) * 4)) & 0x0f;
        out[i] = e.centroids[index]!;
      }
      return out;
    }
  }
}
