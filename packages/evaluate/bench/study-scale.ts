import { encodeBundle } from '@modelfleet/model-format';
import { quantizeDynamicRangeUint8, quantizeFloat16, quantizePerChannelInt8 } from '@modelfleet/quantize';
import {
  type EvalRuntime,
  type LatencyReport,
  artifactFromModel,
  loadArtifactModel,
  measureLatencies,
} from '../src/index.js';
import { buildMobileNetV1 } from '@modelfleet/demo-models';

export interface ScaleRow {
  variant: string;
  encoding: string;
  fileBytes: number;
  latency: LatencyReport;
}

/**
 * Latency and file size of MobileNet-v1 alpha 1.0 at 224x224 (the study's scale) as float32, float16
 * and 8-bit weights, each loaded through model-format's decoding path like a device. The weights
 * are random: in float TF.js neither latency nor file size depends on their values (wire size
 * would — random mantissas do not compress like trained ones — so it is not reported here).
 */
export async function runStudyScale(
  runtime: EvalRuntime,
  options: { runs: number; progress: (text: string) => void },
): Promise<{ rows: ScaleRow[]; notes: string[] }> {
  const { tf } = runtime;
  const model = buildMobileNetV1(tf, { alpha: 1, size: 224, classes: 1000, dropout: 0.001, seed: 1 });
  const float32 = await artifactFromModel(tf, model);
  model.dispose();
  const variants = [
    { variant: 'theta0 float32', encoding: 'float32', artifact: float32 },
    { variant: 'theta4 float16', encoding: 'float16', artifact: quantizeFloat16(float32) },
    { variant: 'theta1 uint8 per-tensor', encoding: 'affine uint8', artifact: quantizeDynamicRangeUint8(float32) },
    { variant: 'int8 per-channel', encoding: 'int8-per-channel', artifact: quantizePerChannelInt8(float32) },
    {
      variant: 'int8 per-channel, batch norm kept',
      encoding: 'int8-per-channel',
      artifact: quantizePerChannelInt8(float32, { foldBatchNorm: false }),
    },
  ];
  const models = [];
  for (const entry of variants) models.push(await loadArtifactModel(runtime, entry.artifact));
  options.progress(`  study scale: ${variants.length} variants loaded, timing ${options.runs} runs each`);
  const image = tf.randomUniform([1, 224, 224, 3], -1, 1) as Parameters<typeof measureLatencies>[2];
  const latencies = await measureLatencies(tf, models, image, { warmupRuns: 3, runs: options.runs });
  image.dispose();
  for (const loaded of models) loaded.dispose();
  return {
    rows: variants.map((entry, index) => ({
      variant: entry.variant,
      encoding: entry.encoding,
      fileBytes: encodeBundle(entry.artifact).length,
      latency: latencies[index]!,
    })),
    notes: [
      `Random-initialised weights (He normal, the demo line builder from @modelfleet/demo-models): file size and latency do not depend on the values in float TF.js; accuracy is not measured here.`,
      `Every variant is decoded to float32 on load, so TF.js computes in float32 for all of them; theta2/theta3 run exactly as int8-per-channel does (their extra metadata is a few KB), so they are not listed separately.`,
      `The quantize candidates fold batch norm into the convolutions (as the TFLite converter does); the last row keeps it, to separate the effect of folding (fewer layers to run) from that of the weight encoding (none on compute).`,
      `${options.runs} timed single-image runs per variant after 3 warm-ups, round-robin.`,
    ],
  };
}
