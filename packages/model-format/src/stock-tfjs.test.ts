/**
 * Acceptance: float16 and uint8 artifacts written by model-format decode with stock TF.js 4.22 to
 * exactly the values our decoder gives (tf.io.decodeWeights and tf.loadLayersModel from memory).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeFloat16 } from './float16.js';
import { decodeTensor, packAffine, packFloat16 } from './payload.js';
import { readArtifact } from './read.js';
import { toTfjsArtifacts } from './stock.js';
import { buildTinyMobileNet, loadWithStockTfjs, savedFiles, useCpuBackend } from './testing/tiny-model.js';
import type { ModelArtifact, TensorRecord } from './types.js';
import { writeArtifact } from './write.js';

function toFloat16(t: TensorRecord): TensorRecord {
  const { bits, outOfRange } = encodeFloat16(decodeTensor(t));
  if (outOfRange) throw new Error('out of range');
  return packFloat16(t.name, t.shape, bits);
}

/** Per-tensor affine uint8 with the zero point nudged onto the grid, as the tfjs converter does. */
function toUint8(t: TensorRecord): TensorRecord {
  const values = decodeTensor(t);
  let lo = Math.min(0, ...values);
  let hi = Math.max(0, ...values);
  if (hi === lo) hi = lo + 1;
  const scale = (hi - lo) / 255;
  const zero = Math.round(-lo / scale);
  lo = -zero * scale;
  const q = Uint8Array.from(values, (v) => Math.max(0, Math.min(255, Math.round((v - lo) / scale))));
  return packAffine(t.name, t.shape, { bits: 8, scale, min: lo }, q);
}

function concatShards(shards: Map<string, Uint8Array>): ArrayBuffer {
  const total = [...shards.values()].reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of shards.values()) {
    out.set(b, offset);
    offset += b.length;
  }
  return out.buffer;
}

describe('stock TF.js compatibility', () => {
  let base: ModelArtifact;
  beforeAll(async () => {
    await useCpuBackend();
    base = readArtifact(await savedFiles(buildTinyMobileNet()));
  });

  for (const [label, convert] of [
    ['float16', toFloat16],
    ['uint8', toUint8],
  ] as const) {
    it(`${label}: tf.io.decodeWeights gives exactly our decoded values`, () => {
      const artifact: ModelArtifact = { ...base, tensors: base.tensors.map(convert) };
      const written = writeArtifact(artifact, { shardBytes: 300 }); // several shards, tensors split across them
      expect(written.shards.size).toBeGreaterThan(1);
      const json = JSON.parse(written.modelJson) as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
      const specs = json.weightsManifest[0]!.weights;
      expect(specs.every((s) => s.quantization?.dtype === label)).toBe(true);
      const stock = tf.io.decodeWeights(concatShards(written.shards), specs);
      for (const t of artifact.tensors) {
        const ours = decodeTensor(t);
        const theirs = stock[t.name]!.dataSync() as Float32Array;
        expect(theirs.length).toBe(ours.length);
        for (let i = 0; i < ours.length; i++)
          if (!Object.is(theirs[i], ours[i])) throw new Error(`${t.name}[${i}]: ${theirs[i]} != ${ours[i]}`);
      }
    });

    it(`${label}: tf.loadLayersModel(fromMemory) holds exactly our decoded weights and predicts the same`, async () => {
      const artifact: ModelArtifact = { ...base, tensors: base.tensors.map(convert) };
      const written = writeArtifact(artifact);
      const model = await loadWithStockTfjs(written.modelJson, written.shards);
      const byName = new Map(artifact.tensors.map((t) => [t.name, t]));
      for (const w of model.weights) {
        const ours = decodeTensor(byName.get(w.originalName)!);
        expect(Array.from(w.read().dataSync())).toEqual(Array.from(ours));
      }
      // our own float32 materialisation of the same artifact predicts identically
      const viaOurs = await tf.loadLayersModel(
        tf.io.fromMemory(toTfjsArtifacts(artifact, { dtype: 'float32' }) as tf.io.ModelArtifacts),
      );
      const x = tf.randomUniform([4, 8, 8, 3], -1, 1, 'float32', 5);
      expect(Array.from((model.predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((viaOurs.predict(x) as tf.Tensor).dataSync()),
      );
    });
  }

  it('toTfjsArtifacts float16 loads in stock TF.js with the float16 values', async () => {
    const artifacts = toTfjsArtifacts(base, { dtype: 'float16' });
    expect(artifacts.weightSpecs.every((s) => s.quantization?.dtype === 'float16')).toBe(true);
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts as tf.io.ModelArtifacts));
    const expected = new Map(base.tensors.map((t) => [t.name, decodeTensor(toFloat16(t))]));
    for (const w of model.weights)
      expect(Array.from(w.read().dataSync())).toEqual(Array.from(expected.get(w.originalName)!));
  });
});
