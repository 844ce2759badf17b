/**
 * Accuracy of the committed demo models on images no training or selection ever saw: `--count` fresh
 * images (default 1,700) drawn from demoDatasetSpec's conditions with another generator seed (default
 * 9001), with a 95 % Wilson interval. A check on the test figure in the manifest, which (measured once,
 * for a checkpoint chosen on validation) should agree with it within the interval.
 *
 *   npm run fresh-accuracy -w @modelfleet/demo-models [-- --seed 9001 --count 1700]
 */
import { generateSynthetic } from '@modelfleet/datasets';
import { demoDatasetSpec } from '../src/dataset-spec.js';
import { DEMO_MODEL_NAMES, loadDemoModelFiles, readDemoManifest } from '../src/fixtures.js';
import { createTrainingRuntime } from '../src/runtime.js';
import { deserializeModel } from '../src/serialize.js';
import { measureAccuracy } from '../src/training/evaluate.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const seed = Number(args.get('seed') ?? 9001);
const count = Number(args.get('count') ?? 1700);
if (seed === demoDatasetSpec.synthetic.seed) throw new Error('that is the seed of the training and test data');

/** 95 % Wilson score interval of a proportion. */
function wilson(p: number, n: number): [number, number] {
  const z = 1.96;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [centre - half, centre + half];
}

await createTrainingRuntime();
const fresh = generateSynthetic({ ...demoDatasetSpec.synthetic, seed, count });
const manifest = readDemoManifest();
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
process.stdout.write(
  `| model | test (manifest, 340) | fresh (seed ${seed}, ${count}) | 95 % interval |\n|---|---|---|---|\n`,
);
for (const name of DEMO_MODEL_NAMES) {
  const record = manifest.models[name];
  if (record === undefined) continue;
  const model = await deserializeModel(loadDemoModelFiles(name));
  const accuracy = await measureAccuracy(model, fresh, demoDatasetSpec.preprocessing);
  model.dispose();
  const [low, high] = wilson(accuracy, count);
  process.stdout.write(`| ${name} | ${pct(record.accuracy.test)} | ${pct(accuracy)} | ${pct(low)} – ${pct(high)} |\n`);
}
