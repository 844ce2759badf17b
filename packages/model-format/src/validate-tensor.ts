/**
 * Checks one tensor's payload against its declared layout: byte length, parameters, finiteness.
 * Used by the reader (untrusted uploads) and the writer (so nothing is written that would be refused).
 */
import { TensorPayloadInvalid, WeightsNotFinite } from './errors.js';
import { isFloat16NonFinite } from './float16.js';
import {
  type EncodingLayout,
  PayloadError,
  elementCount,
  fixedByteLength,
  int8Symbols,
  parseEncoding,
} from './payload.js';
import type { TensorDtype, TensorRecord } from './types.js';

function allFinite(values: readonly number[] | Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

export function validateTensor(
  name: string,
  shape: readonly number[],
  dtype: TensorDtype,
  layout: EncodingLayout,
  bytes: Uint8Array,
): TensorRecord {
  const expected = fixedByteLength(shape, layout);
  if (expected !== undefined && expected !== bytes.length)
    throw new TensorPayloadInvalid(name, `${bytes.length} bytes where the layout needs ${expected}`);
  let encoding;
  try {
    encoding = parseEncoding(shape, layout, bytes);
  } catch (error) {
    if (error instanceof PayloadError) throw new TensorPayloadInvalid(name, error.message);
    throw error;
  }
  const record: TensorRecord = { name, shape: [...shape], dtype, encoding, bytes };
  const n = elementCount(shape);
  switch (encoding.kind) {
    case 'float32': {
      const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 4));
      if (!allFinite(values)) throw new WeightsNotFinite(name, { details: { tensor: name } });
      break;
    }
    case 'float16': {
      const bits = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n * 2));
      for (let i = 0; i < n; i++)
        if (isFloat16NonFinite(bits[i]!)) throw new WeightsNotFinite(name, { details: { tensor: name } });
      break;
    }
    case 'affine': {
      const top = ((1 << encoding.bits) - 1) * encoding.scale + encoding.min;
      if (!Number.isFinite(top) || !Number.isFinite(Math.fround(top)) || !Number.isFinite(Math.fround(encoding.min)))
        throw new WeightsNotFinite(name, { details: { tensor: name } });
      break;
    }
    case 'int8-per-channel':
    case 'sparse-rans': {
      if (!allFinite(encoding.scales)) throw new WeightsNotFinite(name, { details: { tensor: name } });
      if (encoding.scales.some((s) => s < 0)) throw new TensorPayloadInvalid(name, 'negative scale');
      try {
        const q = int8Symbols(record); // for sparse-rans this decodes and checks the whole stream
        if (q.length !== n) throw new PayloadError('symbol count differs from the shape');
      } catch (error) {
        if (error instanceof PayloadError) throw new TensorPayloadInvalid(name, error.message);
        throw error;
      }
      break;
    }
    case 'palette':
      if (!allFinite(encoding.centroids)) throw new WeightsNotFinite(name, { details: { tensor: name } });
      break;
    case 'int32':
      break;
  }
  return record;
}
