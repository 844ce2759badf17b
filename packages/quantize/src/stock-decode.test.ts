/** theta1 and theta4 artifacts use stock encodings: stock TF.js decodes them to exactly our values. */
import { decodeTensor, writeArtifact } from '@modelfleet/model-format';
import { beforeAll, describe, expect, it } from 'vitest';
import { quantizeDynamicRangeUint8, quantizeFloat16 } from './quantizers.js';
import { artifactOf, buildTinyModel, tf } from './testing/tfjs-models.js';

describe('stock encodings written by the quantizers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [id, quantize] of [
    ['theta1', quantizeDynamicRangeUint8],
    ['theta4', quantizeFloat16],
  ] as const) {
    it(`${id}: tf.io.decodeWeights and tf.loadLayersModel see exactly our decoded values`, async () => {
      const out = quantize(await artifactOf(buildTinyModel('functional')));
      const written = writeArtifact(out);
      const json = JSON.parse(written.modelJson) as {
        modelTopology: object;
        weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
      };
      const specs = json.weightsManifest[0]!.weights;
      expect(specs.some((s) => s.quantization?.dtype === (id === 'theta1' ? 'uint8' : 'float16'))).toBe(true);
      const data = [...written.shards.values()][0]!;
      const stock = tf.io.decodeWeights(data.slice().buffer, specs);
      for (const t of out.tensors) expect(Array.from(stock[t.name]!.dataSync())).toEqual(Array.from(decodeTensor(t)));
      const model = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.slice().buffer }),
      );
      for (const w of model.weights)
        expect(Array.from(w.read().dataSync())).toEqual(
          Array.from(decodeTensor(out.tensors.find((t) => t.name === w.originalName)!)),
        );
    });
  }
});
