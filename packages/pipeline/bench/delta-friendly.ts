/**
 * Delta-friendly quantization on the demo models: the base is the released artifact (plain
 * quantization), the full fine-tune successor is the new version. For uint8 (theta1) and per-channel
 * int8: the delta size from the base's artifact to the successor's plain and +reuse artifacts (% of the
 * successor's full file), and the test accuracy of each (demo test set and the shifted test set the
 * successor was fine-tuned for).
 *
 *   npm run bench:delta-friendly -w @modelfleet/pipeline [-- --clip 0.02 --ratio 10 --keep 2 --unfolded --no-accuracy]
 * (defaults: quantize's DEFAULT_REUSE_TOLERANCE, batch norm folded as the candidates do; the released
 * artifact is the plain quantization of the base). Markdown table to stdout.
 */
import { parseArgs } from 'node:util';
import { encodeDelta } from '@modelfleet/delta';
import { createDemoDatasets, demoDatasetSpec, loadDemoModelFiles, shiftedDatasetSpec } from '@modelfleet/demo-models';
import { type BatchClassifier, createRuntime, loadArtifactModel, measureAccuracy } from '@modelfleet/evaluate';
import { type ModelArtifact, encodeBundle, readArtifact } from '@modelfleet/model-format';
import {
  DEFAULT_REUSE_TOLERANCE,
  deltaReuseOf,
  quantizeDynamicRangeUint8,
  quantizePerChannelInt8,
  quantizePerChannelInt8Reusing,
  quantizeUint8Reusing,
} from '@modelfleet/quantize';

const { values: args } = parseArgs({
  options: {
    clip: { type: 'string' },
    ratio: { type: 'string' },
    keep: { type: 'string' },
    base: { type: 'string', default: 'mobilenet-v1-025-64' },
    successor: { type: 'string', default: 'mobilenet-v1-025-64-finetune' },
    'no-accuracy': { type: 'boolean', default: false },
    unfolded: { type: 'boolean', default: false },
  },
});
const fold = { foldBatchNorm: !args.unfolded };
// quantize's DEFAULT_REUSE_TOLERANCE (the policy's defaults too) unless overridden
const tolerance = {
  ...DEFAULT_REUSE_TOLERANCE,
  ...(args.clip !== undefined ? { clipFraction: Number(args.clip) } : {}),
  ...(args.ratio !== undefined ? { maxErrorRatio: Number(args.ratio) } : {}),
  ...(args.keep !== undefined ? { keepWithinSteps: Number(args.keep) } : {}),
  ...fold,
};

const base = readArtifact(loadDemoModelFiles(args.base as never));
const successor = readArtifact(loadDemoModelFiles(args.successor as never));
const runtime = await createRuntime();
const datasets = !args['no-accuracy']
  ? { test: createDemoDatasets(demoDatasetSpec).test, shifted: createDemoDatasets(shiftedDatasetSpec).test }
  : undefined;

async function accuracy(artifact: ModelArtifact): Promise<string> {
  if (datasets === undefined) return '-';
  const model = await loadArtifactModel(runtime, artifact);
  const classify: BatchClassifier = (batch) => model.predict(batch) as ReturnType<BatchClassifier>;
  const preprocessing = demoDatasetSpec.preprocessing;
  const out: string[] = [];
  for (const set of [datasets.test, datasets.shifted])
    out.push(((await measureAccuracy(runtime.tf, classify, set, { preprocessing })).accuracy * 100).toFixed(2));
  model.dispose();
  return out.join(' / ');
}

const rows: string[] = [];
const line = (...cells: (string | number)[]) => rows.push(`| ${cells.join(' | ')} |`);
line(
  'encoding',
  'candidate',
  'full bytes',
  'delta bytes',
  'delta % of full',
  'grids reused',
  'integers kept',
  'test / shifted acc %',
);
line('---', '---', '---', '---', '---', '---', '---', '---');
line('float32', 'theta0', encodeBundle(successor).length, '', '', '', '', await accuracy(successor));
for (const [name, plain, reusing] of [
  ['uint8 (theta1)', quantizeDynamicRangeUint8, quantizeUint8Reusing],
  ['int8 per-channel', quantizePerChannelInt8, quantizePerChannelInt8Reusing],
] as const) {
  const released = encodeBundle(plain(base, fold));
  for (const [label, artifact] of [
    ['plain', plain(successor, fold)],
    ['+reuse', reusing(successor, plain(base, fold), tolerance)],
  ] as const) {
    const bundle = encodeBundle(artifact);
    const delta = encodeDelta(released, bundle);
    const summary = deltaReuseOf(artifact);
    line(
      name,
      label,
      bundle.length,
      delta.bytes.length,
      ((delta.bytes.length / bundle.length) * 100).toFixed(1),
      summary ? `${summary.reusedRanges}/${summary.totalRanges}` : '',
      summary ? `${((summary.keptIntegers / summary.totalIntegers) * 100).toFixed(1)} %` : '',
      await accuracy(artifact),
    );
  }
}
console.log(`${args.base} -> ${args.successor}, ${JSON.stringify(tolerance)}`);
console.log(rows.join('\n'));
