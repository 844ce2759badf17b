/**
 * Materialising any artifact as a stock TF.js float model, for applications that load with plain
 * TF.js (`tf.loadLayersModel`) and cannot decode our own encodings.
 */
import { Float16OutOfRange } from './errors.js';
import { encodeFloat16 } from './float16.js';
import { manifestEntryOf, type ManifestEntry } from './manifest.js';
import { decodeTensor, packFloat16, packFloat32 } from './payload.js';
import type { ModelArtifact, TensorRecord } from './types.js';

export type StockFloatDtype = 'float32' | 'float16';

function materialiseTensor(t: TensorRecord, dtype: StockFloatDtype): TensorRecord {
  if (t.dtype !== 'float32') return t;
  if (t.encoding.kind === dtype) return t;
  const values = decodeTensor(t);
  if (dtype === 'float32') return packFloat32(t.name, t.shape, values);
  const { bits, outOfRange } = encodeFloat16(values);
  if (outOfRange) throw new Float16OutOfRange(t.name);
  return packFloat16(t.name, t.shape, bits);
}

/** The same model with every float weight stored as stock float32 (or float16). Metadata is kept. */
export function materializeStock(artifact: ModelArtifact, options: { dtype: StockFloatDtype }): ModelArtifact {
  return { modelJson: artifact.modelJson, tensors: artifact.tensors.map((t) => materialiseTensor(t, options.dtype)) };
}

/** Shaped like tfjs `io.ModelArtifacts`, for `tf.loadLayersModel(tf.io.fromMemory(artifacts))`. */
export interface TfjsModelArtifacts {
  modelTopology: Record<string, unknown>;
  format: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightSpecs: ManifestEntry[];
  weightData: ArrayBuffer;
}

export function toTfjsArtifacts(
  artifact: ModelArtifact,
  options: { dtype: StockFloatDtype } = { dtype: 'float32' },
): TfjsModelArtifacts {
  const stock = materializeStock(artifact, options);
  const total = stock.tensors.reduce((sum, t) => sum + t.bytes.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const t of stock.tensors) {
    data.set(t.bytes, offset);
    offset += t.bytes.length;
  }
  const { modelJson } = stock;
  return {
    modelTopology: { ...modelJson.modelTopology },
    format: modelJson.format,
    ...(modelJson.generatedBy !== undefined ? { generatedBy: modelJson.generatedBy } : {}),
    ...(modelJson.convertedBy !== undefined ? { convertedBy: modelJson.convertedBy } : {}),
    weightSpecs: stock.tensors.map(manifestEntryOf),
    weightData: data.buffer,
  };
}
