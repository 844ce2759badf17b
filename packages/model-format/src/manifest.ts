/**
 * Weights-manifest entries <-> encodings. Stock encodings are written exactly as tfjs-core 4.22
 * `io.decodeWeights` reads them: float16 is `quantization: {dtype: 'float16'}` on a float32 weight;
 * uint8/uint16 affine is `quantization: {dtype, scale, min}`. Ours use `quantization.dtype = 'mf-…'`.
 */
import type { EncodingLayout } from './payload.js';
import type { TensorRecord } from './types.js';
import { shown } from './shown.js';

export interface ManifestEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  quantization?: Record<string, unknown> & { dtype: string };
}

export const OWN_QUANTIZATION_DTYPES = ['mf-int8-per-channel', 'mf-palette4', 'mf-palette8', 'mf-sparse-rans'] as const;

export function manifestEntryOf(t: TensorRecord): ManifestEntry {
  const base = { name: t.name, shape: [...t.shape], dtype: t.dtype };
  const e = t.encoding;
  switch (e.kind) {
    case 'float32':
    case 'int32':
      return base;
    case 'float16':
      return { ...base, quantization: { dtype: 'float16' } };
    case 'affine':
      return { ...base, quantization: { dtype: e.bits === 8 ? 'uint8' : 'uint16', scale: e.scale, min: e.min } };
    case 'int8-per-channel':
      return { ...base, quantization: { dtype: 'mf-int8-per-channel', axis: e.axis } };
    case 'palette':
      return { ...base, quantization: { dtype: e.bits === 4 ? 'mf-palette4' : 'mf-palette8' } };
    case 'sparse-rans':
      return { ...base, quantization: { dtype: 'mf-sparse-rans', axis: e.axis, byteLength: t.bytes.length } };
  }
}

/** Reason a manifest entry's encoding cannot be understood (the caller maps it to MF_ERR_DTYPE_UNKNOWN). */
export class LayoutError extends Error {}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The encoding layout an entry declares, plus the byte length it declares (sparse-rans only). */
export function layoutOfEntry(
  dtype: 'float32' | 'int32',
  shape: readonly number[],
  quantization: unknown,
): { layout: EncodingLayout; declaredByteLength?: number } {
  if (quantization === undefined || quantization === null) return { layout: { kind: dtype } };
  if (typeof quantization !== 'object' || Array.isArray(quantization))
    throw new LayoutError('quantization is not an object');
  const q = quantization as Record<string, unknown>;
  const qd = q['dtype'];
  if (dtype !== 'float32') throw new LayoutError(`quantization ${shown(qd)} on a ${dtype} weight`);
  const axisOf = (): number => {
    const axis = q['axis'];
    if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= shape.length)
      throw new LayoutError(`axis ${shown(axis)} is outside the shape`);
    return axis;
  };
  switch (qd) {
    case 'float16':
      return { layout: { kind: 'float16' } };
    case 'uint8':
    case 'uint16': {
      // tfjs refuses uint8/uint16 without both; a non-finite scale/min would decode to NaN/Inf
      if (!('scale' in q) || !('min' in q)) throw new LayoutError(`${qd} quantization without scale and min`);
      if (!isFiniteNumber(q['scale']) || !isFiniteNumber(q['min']))
        throw new LayoutError('scale and min must be finite numbers');
      return { layout: { kind: 'affine', bits: qd === 'uint8' ? 8 : 16, scale: q['scale'], min: q['min'] } };
    }
    case 'mf-int8-per-channel':
      return { layout: { kind: 'int8-per-channel', axis: axisOf() } };
    case 'mf-palette4':
    case 'mf-palette8':
      return { layout: { kind: 'palette', bits: qd === 'mf-palette4' ? 4 : 8 } };
    case 'mf-sparse-rans': {
      const axis = axisOf();
      const byteLength = q['byteLength'];
      if (typeof byteLength !== 'number' || !Number.isInteger(byteLength) || byteLength < 0)
        throw new LayoutError('mf-sparse-rans needs an integer byteLength');
      return { layout: { kind: 'sparse-rans', axis }, declaredByteLength: byteLength };
    }
    default:
      throw new LayoutError(`quantization dtype ${shown(qd)}`);
  }
}
