/**
 * Test support: small synthetic artifacts (a stack of Dense layers) in every encoding, and edits of
 * them, as canonical bundles. Deterministic for a given seed.
 */
import {
  type ModelArtifact,
  type TensorRecord,
  channelCount,
  encodeBundle,
  float32ToFloat16Bits,
  packAffine,
  packFloat16,
  packFloat32,
  packInt8PerChannel,
  packPalette,
  packSparseRans,
} from '@modelfleet/model-format';

export type TestEncoding = 'float32' | 'float16' | 'uint8' | 'int8' | 'palette4' | 'sparse';
export const TEST_ENCODINGS: readonly TestEncoding[] = ['float32', 'float16', 'uint8', 'int8', 'palette4', 'sparse'];

export interface DenseSpec {
  readonly name: string;
  readonly inputs: number;
  readonly units: number;
  readonly bias: boolean;
}

export interface FloatModel {
  readonly layers: readonly DenseSpec[];
  /** float values per weight name */
  readonly weights: ReadonlyMap<string, Float32Array>;
  readonly metadata?: string;
}

/** mulberry32: a tiny seeded generator, so fixtures are reproducible without storing them. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(next: () => number, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = Math.max(next(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  }
  return out;
}

export function shapesOf(layer: DenseSpec): [string, number[]][] {
  const out: [string, number[]][] = [[`${layer.name}/kernel`, [layer.inputs, layer.units]]];
  if (layer.bias) out.push([`${layer.name}/bias`, [layer.units]]);
  return out;
}

export function floatModel(layers: readonly DenseSpec[], seed: number): FloatModel {
  const next = random(seed);
  const weights = new Map<string, Float32Array>();
  for (const layer of layers)
    for (const [name, shape] of shapesOf(layer))
      weights.set(
        name,
        gaussian(
          next,
          shape.reduce((a, b) => a * b, 1),
          0.1,
        ),
      );
  return { layers, weights };
}

function encodeTensor(name: string, shape: number[], values: Float32Array, encoding: TestEncoding): TensorRecord {
  switch (encoding) {
    case 'float32':
      return packFloat32(name, shape, values);
    case 'float16':
      return packFloat16(
        name,
        shape,
        Uint16Array.from(values, (v) => float32ToFloat16Bits(v)),
      );
    case 'uint8': {
      let min = Math.min(0, ...values);
      const max = Math.max(0, ...values);
      const scale = max > min ? (max - min) / 255 : 1;
      if (max === min) min = 0;
      const q = Uint8Array.from(values, (v) => Math.min(255, Math.max(0, Math.round((v - min) / scale))));
      return packAffine(name, shape, { bits: 8, scale, min }, q);
    }
    case 'int8':
    case 'sparse': {
      const axis = shape.length - 1;
      const channels = channelCount(shape, axis);
      const scales = new Float32Array(channels);
      values.forEach((v, i) => {
        const c = i % channels;
        scales[c] = Math.max(scales[c]!, Math.abs(v) / 127);
      });
      for (let c = 0; c < channels; c++) if (scales[c] === 0) scales[c] = 1;
      const q = Int8Array.from(values, (v, i) => Math.max(-127, Math.min(127, Math.round(v / scales[i % channels]!))));
      if (encoding === 'int8') return packInt8PerChannel(name, shape, axis, scales, q);
      // magnitude pruning of the smaller half, as the pruning candidate does
      const pruned = Int8Array.from(q, (v) => (Math.abs(v) < 40 ? 0 : v));
      return packSparseRans(name, shape, axis, scales, pruned);
    }
    case 'palette4': {
      const centroids = new Float32Array(16).map((_, k) => -0.3 + (0.6 * k) / 15);
      const indices = Uint8Array.from(values, (v) => Math.min(15, Math.max(0, Math.round(((v + 0.3) * 15) / 0.6))));
      return packPalette(name, shape, 4, centroids, indices);
    }
  }
}

export function artifactOf(model: FloatModel, encodingOf: (name: string) => TestEncoding): ModelArtifact {
  const tensors: TensorRecord[] = [];
  for (const layer of model.layers)
    for (const [name, shape] of shapesOf(layer))
      tensors.push(encodeTensor(name, shape, model.weights.get(name)!, encodingOf(name)));
  return {
    modelJson: {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'dense_stack',
          layers: model.layers.map((l) => ({
            class_name: 'Dense',
            config: { name: l.name, units: l.units, use_bias: l.bias, activation: 'relu' },
          })),
        },
      },
      ...(model.metadata === undefined ? {} : { modelfleet: { version: 1, variant: model.metadata } }),
    },
    tensors,
  };
}

export function bundleOf(model: FloatModel, encodingOf: (name: string) => TestEncoding): Uint8Array {
  return encodeBundle(artifactOf(model, encodingOf));
}
