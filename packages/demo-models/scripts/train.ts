/**
 * Trains the demo models and writes the fixtures (issue 3):
 *   base      MobileNet-v1 0.25 at 64x64 on the synthetic set, Adam, cosine learning rate;
 *   head      head-only retrain of the base on a shifted distribution (backbone frozen, features
 *             computed in inference mode);
 *   finetune  a short full fine-tune of the base on the shifted distribution at a low rate.
 *
 *   npm run train -w @modelfleet/demo-models -- [--stage all|base|continue|successors|head|finetune] [--epochs 30] [--lr 5e-4]
 *
 * Progress lines go to stdout; run it with nohup in the background (≈20-40 min on 2 shared cores).
 * Deterministic: seeded initialisers, seeded shuffles and augmentation, and Math.random replaced
 * by a seeded generator because tfjs draws unseeded dropout masks from it (a seeded Dropout layer
 * would reuse one mask for every batch).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createPrng, type Dataset, datasetCount } from '@modelfleet/datasets';
import { createDemoDatasets, demoDatasetSpec, pretrainDatasetSpec, shiftedDatasetSpec } from '../src/dataset-spec.js';
import {
  type DemoManifest,
  type DemoModelName,
  type DemoModelRecord,
  fixturesDir,
  loadModelFolder,
} from '../src/fixtures.js';
import { buildMobileNetV1, HEAD_LAYER } from '../src/mobilenet.js';
import { createTrainingRuntime } from '../src/runtime.js';
import { deserializeModel, type SerializedModel, serializeModel, WEIGHTS_FILE } from '../src/serialize.js';
import { measureAccuracy } from '../src/training/evaluate.js';
import { retrainHead } from '../src/training/head.js';
import { cosineSchedule, trainEpochs } from '../src/training/train-loop.js';

const SEED = 2020;
const BATCH = 16;
const TARGET_TEST_ACCURACY = 0.95;

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const stage = args.get('stage') ?? 'all';
const epochs = Number(args.get('epochs') ?? 30);

const mathRandom = createPrng(SEED ^ 0x5eed);
Math.random = () => mathRandom.next();

const t0 = performance.now();
function log(message: string): void {
  process.stdout.write(`[${new Date().toISOString()}] +${((performance.now() - t0) / 1000).toFixed(0)}s ${message}\n`);
}

function concatDatasets(a: Dataset, b: Dataset): Dataset {
  const images = new Uint8Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { ...a, images, labels };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

const tf = await createTrainingRuntime();
log(`tfjs ${tf.version.tfjs} backend ${tf.getBackend()}, stage ${stage}`);
const data = createDemoDatasets(demoDatasetSpec);
const shifted = createDemoDatasets(shiftedDatasetSpec);
// The base's first phase trains on the harder pretraining distribution (see pretrainDatasetSpec).
const withPretrain = args.get('with-pretrain') === 'true';
const pretrain =
  stage === 'all' || stage === 'base' || withPretrain ? createDemoDatasets(pretrainDatasetSpec) : undefined;
const { preprocessing } = demoDatasetSpec;
log(
  `data: train ${datasetCount(data.train)}, test ${datasetCount(data.test)}; shifted train ${datasetCount(shifted.train)}, test ${datasetCount(shifted.test)}`,
);

// --out writes the fixtures elsewhere (e.g. to try a recipe without touching the committed ones).
const outDir = args.has('out') ? resolve(args.get('out')!) : fixturesDir();
const modelDir = (name: DemoModelName): string => `${join(outDir, name)}/`;
const loadDemoModelFiles = (name: DemoModelName): Map<string, Uint8Array> => loadModelFolder(modelDir(name));
const manifestPath = join(outDir, 'manifest.json');
const manifest: DemoManifest = existsSync(manifestPath)
  ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest)
  : {
      inputShape: [64, 64, 3],
      classNames: data.train.classNames,
      preprocessing,
      dataset: demoDatasetSpec,
      shiftedDataset: shiftedDatasetSpec,
      runtime: '',
      models: {},
    };
// The data the fixtures are measured on (specs in src/dataset-spec.ts), whatever an older manifest said.
manifest.dataset = demoDatasetSpec;
manifest.pretrainDataset = pretrainDatasetSpec;
manifest.shiftedDataset = shiftedDatasetSpec;
manifest.runtime = `@tensorflow/tfjs ${tf.version.tfjs}, wasm backend (SIMD), Node ${process.version}, gradient kernels from src/kernels`;

function writeFixture(name: DemoModelName, serialized: SerializedModel): DemoModelRecord['files'] {
  const dir = modelDir(name);
  mkdirSync(dir, { recursive: true });
  const json = new TextEncoder().encode(serialized.modelJson);
  writeFileSync(join(dir, 'model.json'), json);
  writeFileSync(join(dir, WEIGHTS_FILE), serialized.weights);
  return {
    'model.json': { bytes: json.length, sha256: sha256(json) },
    [WEIGHTS_FILE]: { bytes: serialized.weights.length, sha256: sha256(serialized.weights) },
  };
}

async function accuracies(model: Awaited<ReturnType<typeof deserializeModel>>): Promise<DemoModelRecord['accuracy']> {
  return {
    test: await measureAccuracy(model, data.test, preprocessing),
    train: await measureAccuracy(model, data.train, preprocessing),
    shiftedTest: await measureAccuracy(model, shifted.test, preprocessing),
  };
}

/** Writes this run's records over the file's current ones, so stages run in parallel keep each other's. */
function saveManifest(written: DemoModelName): void {
  const onDisk = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest) : manifest;
  const models = { ...onDisk.models, [written]: manifest.models[written] };
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, models }, null, 2)}\n`);
}

const parameterCount = (model: { countParams(): number }): number => model.countParams();

if (stage === 'all' || stage === 'base') {
  const model = buildMobileNetV1(tf, { alpha: 0.25, size: 64, classes: 5, dropout: 0.1, seed: SEED });
  const baseRate = Number(args.get('base-lr') ?? 5e-3);
  const learningRate = { start: baseRate, end: baseRate / 100 };
  model.compile({
    optimizer: tf.train.adam(learningRate.start),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  log(
    `base: ${parameterCount(model)} parameters, ${epochs} epochs, batch ${BATCH}, Adam ${learningRate.start} -> ${learningRate.end} (cosine)`,
  );
  const prng = createPrng(SEED + 1);
  const started = performance.now();
  let trainingSeconds = 0;
  const history: Array<{ epoch: number; loss: number; trainAccuracy: number; testAccuracy: number; seconds: number }> =
    [];
  const onEpoch = async (r: {
    epoch: number;
    epochs: number;
    learningRate: number;
    loss: number;
    trainAccuracy: number;
    seconds: number;
  }): Promise<void> => {
    trainingSeconds += r.seconds;
    const testAccuracy = await measureAccuracy(model, pretrain!.test, preprocessing);
    history.push({
      epoch: history.length + 1,
      loss: r.loss,
      trainAccuracy: r.trainAccuracy,
      testAccuracy,
      seconds: r.seconds,
    });
    log(
      `base epoch ${r.epoch}/${r.epochs} lr ${r.learningRate.toExponential(2)} loss ${r.loss.toFixed(4)} ` +
        `train(batch) ${pct(r.trainAccuracy)} test ${pct(testAccuracy)} ${r.seconds.toFixed(1)}s`,
    );
  };
  await trainEpochs(model, pretrain!.train, {
    epochs,
    batchSize: BATCH,
    learningRate: cosineSchedule(learningRate.start, learningRate.end, epochs),
    preprocessing,
    prng,
    augment: true,
    onEpoch,
  });
  // The note: 16 epochs reached 91 %, two more at a low rate 95 %. Same remedy here if needed.
  let extra = 0;
  while (epochs >= 10 && (history.at(-1)?.testAccuracy ?? 0) < TARGET_TEST_ACCURACY && extra < 4) {
    extra++;
    await trainEpochs(model, pretrain!.train, {
      epochs: 1,
      batchSize: BATCH,
      learningRate: () => 2e-4,
      preprocessing,
      prng,
      augment: true,
      onEpoch,
    });
  }
  const serialized = await serializeModel(model);
  const reloaded = await deserializeModel(
    new Map([
      ['model.json', new TextEncoder().encode(serialized.modelJson)],
      [WEIGHTS_FILE, serialized.weights],
    ]),
  );
  const accuracy = await accuracies(reloaded);
  log(`base done: test ${pct(accuracy.test)} train ${pct(accuracy.train)} shifted test ${pct(accuracy.shiftedTest)}`);
  manifest.models['mobilenet-v1-025-64'] = {
    name: 'mobilenet-v1-025-64',
    parent: null,
    description: 'MobileNet-v1 alpha 0.25, 64x64x3, trained from scratch on the synthetic set (demoDatasetSpec)',
    files: writeFixture('mobilenet-v1-025-64', serialized),
    parameters: parameterCount(model),
    accuracy,
    training: {
      seed: SEED,
      data: 'pretrainDatasetSpec (history: test accuracy on its test set)',
      epochs: epochs + extra,
      extraLowRateEpochs: extra,
      batchSize: BATCH,
      optimizer: { name: 'adam', learningRate, schedule: 'cosine per epoch', extraEpochLearningRate: 2e-4 },
      augmentation: 'random flips and quarter turns (8 symmetries of the square)',
      dropout: 0.1,
      batchNormMomentum: 0.9,
      seconds: Math.round(trainingSeconds),
      wallSeconds: Math.round((performance.now() - started) / 1000),
      secondsPerEpoch: Number((trainingSeconds / history.length).toFixed(1)),
      history,
    },
  };
  saveManifest('mobilenet-v1-025-64');
  if (accuracy.test < TARGET_TEST_ACCURACY)
    log(`WARNING base test accuracy ${pct(accuracy.test)} is below ${pct(TARGET_TEST_ACCURACY)}`);
}

/**
 * More epochs for the committed base (e.g. `--stage continue --epochs 3 --lr 5e-4`), as the issue
 * did ("95 % after two more epochs of fine-tuning"). Adam starts with fresh moments.
 */
if (stage === 'all' || stage === 'continue') {
  const record = manifest.models['mobilenet-v1-025-64'];
  if (!record) throw new Error('no base model to continue; run --stage base first');
  const rate = Number(args.get('lr') ?? 1e-3);
  const continueEpochs = stage === 'continue' ? epochs : Number(args.get('continue-epochs') ?? 4);
  const model = await deserializeModel(loadDemoModelFiles('mobilenet-v1-025-64'));
  log(`continue: ${continueEpochs} epochs on demoDatasetSpec, Adam ${rate} -> ${rate / 20} (cosine)`);
  model.compile({ optimizer: tf.train.adam(rate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const training = record.training as {
    epochs: number;
    seconds: number;
    history: Array<{ epoch: number; loss: number; trainAccuracy: number; testAccuracy: number; seconds: number }>;
    continued?: Array<{ epochs: number; data: string; augment: boolean; learningRate: number; schedule: string }>;
  };
  let seconds = 0;
  // --with-pretrain true: the last epochs see both training sets (2 x 1,360 images); the test set stays demoDatasetSpec's.
  const continueTrain = withPretrain ? concatDatasets(data.train, pretrain!.train) : data.train;
  await trainEpochs(model, continueTrain, {
    epochs: continueEpochs,
    batchSize: BATCH,
    learningRate: cosineSchedule(rate, rate / 20, continueEpochs),
    preprocessing,
    prng: createPrng(SEED + 100 + training.history.length),
    augment: args.get('augment') !== 'false',
    onEpoch: async (r) => {
      seconds += r.seconds;
      const testAccuracy = await measureAccuracy(model, data.test, preprocessing);
      training.history.push({
        epoch: training.history.length + 1,
        loss: r.loss,
        trainAccuracy: r.trainAccuracy,
        testAccuracy,
        seconds: r.seconds,
      });
      log(
        `continue epoch ${r.epoch}/${r.epochs} lr ${r.learningRate.toExponential(2)} loss ${r.loss.toFixed(4)} ` +
          `train(batch) ${pct(r.trainAccuracy)} test ${pct(testAccuracy)} ${r.seconds.toFixed(1)}s`,
      );
    },
  });
  const accuracy = await accuracies(model);
  log(`continue done: test ${pct(accuracy.test)} train ${pct(accuracy.train)} (was ${pct(record.accuracy.test)})`);
  record.files = writeFixture('mobilenet-v1-025-64', await serializeModel(model));
  record.accuracy = accuracy;
  training.epochs += continueEpochs;
  training.seconds += Math.round(seconds);
  training.continued = [
    ...(training.continued ?? []),
    {
      epochs: continueEpochs,
      data: withPretrain ? 'demoDatasetSpec + pretrainDatasetSpec train sets' : 'demoDatasetSpec',
      augment: args.get('augment') !== 'false',
      learningRate: rate,
      schedule: `cosine to ${rate / 20}`,
    },
  ];
  saveManifest('mobilenet-v1-025-64');
}

if (stage === 'all' || stage === 'successors' || stage === 'head') {
  const base = await deserializeModel(loadDemoModelFiles('mobilenet-v1-025-64'));
  const started = performance.now();
  const options = {
    epochs: 30,
    batchSize: 32,
    learningRate: 1e-3,
    dropout: 0.1,
    preprocessing,
    prng: createPrng(SEED + 2),
  };
  const weights = await retrainHead(base, shifted.train, options);
  base.getLayer(HEAD_LAYER).setWeights(weights);
  const seconds = (performance.now() - started) / 1000;
  const serialized = await serializeModel(base);
  const accuracy = await accuracies(base);
  log(
    `head done in ${seconds.toFixed(0)}s: test ${pct(accuracy.test)} train ${pct(accuracy.train)} shifted test ${pct(accuracy.shiftedTest)}`,
  );
  manifest.models['mobilenet-v1-025-64-head'] = {
    name: 'mobilenet-v1-025-64-head',
    parent: 'mobilenet-v1-025-64',
    description:
      'head-only retrain of the base on the shifted set (shiftedDatasetSpec); every backbone tensor is bit-identical to the base',
    files: writeFixture('mobilenet-v1-025-64-head', serialized),
    parameters: parameterCount(base),
    accuracy,
    training: {
      ...options,
      prng: undefined,
      data: 'shiftedDatasetSpec train, features from the base in inference mode',
      seconds: Math.round(seconds),
    },
  };
  saveManifest('mobilenet-v1-025-64-head');
}

if (stage === 'all' || stage === 'successors' || stage === 'finetune') {
  const model = await deserializeModel(loadDemoModelFiles('mobilenet-v1-025-64'));
  const rate = 3e-4;
  model.compile({ optimizer: tf.train.adam(rate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const reports = await trainEpochs(model, shifted.train, {
    epochs: 2,
    batchSize: BATCH,
    learningRate: () => rate,
    preprocessing,
    prng: createPrng(SEED + 3),
    augment: true,
    onEpoch: (r) =>
      log(
        `finetune epoch ${r.epoch}/${r.epochs} loss ${r.loss.toFixed(4)} train(batch) ${pct(r.trainAccuracy)} ${r.seconds.toFixed(1)}s`,
      ),
  });
  const serialized = await serializeModel(model);
  const accuracy = await accuracies(model);
  log(
    `finetune done: test ${pct(accuracy.test)} train ${pct(accuracy.train)} shifted test ${pct(accuracy.shiftedTest)}`,
  );
  manifest.models['mobilenet-v1-025-64-finetune'] = {
    name: 'mobilenet-v1-025-64-finetune',
    parent: 'mobilenet-v1-025-64',
    description:
      'short full fine-tune of the base on the shifted set (shiftedDatasetSpec): every tensor changes a little',
    files: writeFixture('mobilenet-v1-025-64-finetune', serialized),
    parameters: parameterCount(model),
    accuracy,
    training: {
      epochs: 2,
      batchSize: BATCH,
      optimizer: { name: 'adam', learningRate: rate },
      data: 'shiftedDatasetSpec train',
      seconds: Math.round(reports.reduce((sum, r) => sum + r.seconds, 0)),
    },
  };
  saveManifest('mobilenet-v1-025-64-finetune');
}
log('done');
