/**
 * Trains the demo models and writes the fixtures (issues 3 and 6):
 *   base            MobileNet-v1 0.25 at 64x64 from scratch, Adam with a cosine learning rate; the
 *                   checkpoint is the epoch with the best accuracy on a validation split carved out
 *                   of the training set (demoValidationSplit); the test set is measured once, at the
 *                   end, for that checkpoint;
 *   head            head-only retrain of the base on a shifted distribution (backbone frozen,
 *                   features computed in inference mode);
 *   top2            fine-tune of the top two depthwise-separable blocks and the head (the layers
 *                   below them frozen, their activations computed in inference mode);
 *   finetune        a short full fine-tune of the base on the shifted distribution;
 *   finetune-lowlr  the same at a tenth of the rate (every tensor moves, by little);
 *   scratch         the base's recipe from another seed with fewer epochs (a different network).
 *
 *   npm run train -w @modelfleet/demo-models -- [--stage all|base|continue|successors|head|top2|finetune|finetune-lowlr|scratch]
 *       [--epochs 45] [--base-lr 5e-3] [--patience <epochs>] [--seed 2020] [--with-pretrain true] [--out dir]
 *
 * The defaults are the committed base's recipe: 45 epochs on the fit split plus the pretraining set's
 * training images, every epoch a candidate checkpoint (no early stop). Chosen on validation accuracy
 * against 60 epochs on the fit split alone (92.7 % validation; the base's recipe: 97.1 %).
 *
 * Progress lines go to stdout; run it with nohup in the background. Deterministic: seeded
 * initialisers, seeded shuffles and augmentation, and Math.random replaced by a seeded generator
 * because tfjs draws unseeded dropout masks from it (a seeded Dropout layer would reuse one mask
 * for every batch).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs';
import { createPrng, type Dataset, datasetCount } from '@modelfleet/datasets';
import {
  createDemoDatasets,
  demoDatasetSpec,
  demoValidationSplit,
  pretrainDatasetSpec,
  shiftedDatasetSpec,
  splitValidation,
} from '../src/dataset-spec.js';
import {
  type DemoManifest,
  type TrainableModelName,
  type DemoModelRecord,
  fixturesDir,
  loadModelFolder,
} from '../src/fixtures.js';
import { buildMobileNetV1, HEAD_LAYER } from '../src/mobilenet.js';
import { createTrainingRuntime } from '../src/runtime.js';
import { deserializeModel, type SerializedModel, serializeModel, WEIGHTS_FILE } from '../src/serialize.js';
import { measureAccuracy } from '../src/training/evaluate.js';
import { retrainHead } from '../src/training/head.js';
import { fineTuneTop } from '../src/training/partial.js';
import { cosineSchedule, trainEpochs } from '../src/training/train-loop.js';

const SEED = 2020;
/** The from-scratch successor's seed (initialisers, shuffles, augmentation, dropout). */
const SCRATCH_SEED = 7;
const BATCH = 16;
const TARGET_TEST_ACCURACY = 0.95;
const BASE: TrainableModelName = 'mobilenet-v1-025-64';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const stage = args.get('stage') ?? 'all';
const runs = (...names: string[]): boolean => stage === 'all' || names.includes(stage);

let mathRandom = createPrng(SEED ^ 0x5eed);
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
// Checkpoints are selected on `validation`; the network is fitted on `fit` (+ the pretraining set).
const { fit, validation } = splitValidation(data.train, demoValidationSplit);
const shifted = createDemoDatasets(shiftedDatasetSpec);
// Runs from scratch add the harder pretraining distribution's training set to `fit` (its own test set is
// not used); `--with-pretrain false` trains on `fit` alone.
const withPretrain = args.get('with-pretrain') !== 'false';
const pretrain = withPretrain ? createDemoDatasets(pretrainDatasetSpec) : undefined;
const fromScratchData = pretrain ? concatDatasets(fit, pretrain.train) : fit;
const { preprocessing } = demoDatasetSpec;
log(
  `data: fit ${datasetCount(fit)}, validation ${datasetCount(validation)}, test ${datasetCount(data.test)}` +
    `${pretrain ? `, pretrain train ${datasetCount(pretrain.train)}` : ''}; shifted train ${datasetCount(shifted.train)}, test ${datasetCount(shifted.test)}`,
);

// --out writes the fixtures elsewhere (e.g. to try a recipe without touching the committed ones).
const outDir = args.has('out') ? resolve(args.get('out')!) : fixturesDir();
const modelDir = (name: TrainableModelName): string => `${join(outDir, name)}/`;
const loadFiles = (name: TrainableModelName): Map<string, Uint8Array> => loadModelFolder(modelDir(name));
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
manifest.validationSplit = demoValidationSplit;
manifest.pretrainDataset = pretrainDatasetSpec;
manifest.shiftedDataset = shiftedDatasetSpec;
manifest.runtime = `@tensorflow/tfjs ${tf.version.tfjs}, wasm backend (SIMD), Node ${process.version}, gradient kernels from src/kernels`;

function writeFixture(name: TrainableModelName, serialized: SerializedModel): DemoModelRecord['files'] {
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

const reload = (serialized: SerializedModel): Promise<LayersModel> =>
  deserializeModel(
    new Map([
      ['model.json', new TextEncoder().encode(serialized.modelJson)],
      [WEIGHTS_FILE, serialized.weights],
    ]),
  );

/** The final measurement of a written model; the only place the test set is looked at. */
async function accuracies(model: LayersModel): Promise<DemoModelRecord['accuracy']> {
  return {
    validation: await measureAccuracy(model, validation, preprocessing),
    test: await measureAccuracy(model, data.test, preprocessing),
    train: await measureAccuracy(model, data.train, preprocessing),
    shiftedTest: await measureAccuracy(model, shifted.test, preprocessing),
  };
}

/** Writes this run's record over the file's current one, so stages run in parallel keep each other's. */
function saveManifest(written: TrainableModelName): void {
  const onDisk = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest) : manifest;
  const models = { ...onDisk.models, [written]: manifest.models[written] };
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, models }, null, 2)}\n`);
}

interface EpochRecord {
  epoch: number;
  learningRate: number;
  loss: number;
  trainAccuracy: number;
  validationAccuracy: number;
  seconds: number;
}

/**
 * Trains `model` epoch by epoch and keeps the checkpoint with the best validation accuracy (ties go
 * to the later epoch: same accuracy after more, lower-rate steps); stops early after `patience`
 * epochs without a new best. `start` is the validation accuracy of the starting weights when they
 * are a candidate themselves (continuing a trained model).
 */
async function trainSelectingOnValidation(
  model: LayersModel,
  label: string,
  options: { epochs: number; rate: number; endRate: number; seed: number; patience: number; start?: SerializedModel },
): Promise<{ best: SerializedModel; bestEpoch: number; history: EpochRecord[]; seconds: number }> {
  let best = options.start;
  let bestAccuracy = best ? await measureAccuracy(model, validation, preprocessing) : -1;
  let bestEpoch = 0;
  const history: EpochRecord[] = [];
  let seconds = 0;
  const prng = createPrng(options.seed + 1);
  const schedule = cosineSchedule(options.rate, options.endRate, options.epochs);
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const [r] = await trainEpochs(model, fromScratchData, {
      epochs: 1,
      batchSize: BATCH,
      learningRate: () => schedule(epoch),
      preprocessing,
      prng,
      augment: true,
    });
    seconds += r!.seconds;
    const validationAccuracy = await measureAccuracy(model, validation, preprocessing);
    history.push({
      epoch: epoch + 1,
      learningRate: r!.learningRate,
      loss: r!.loss,
      trainAccuracy: r!.trainAccuracy,
      validationAccuracy,
      seconds: r!.seconds,
    });
    const improved = validationAccuracy >= bestAccuracy;
    if (improved) {
      best = await serializeModel(model);
      bestAccuracy = validationAccuracy;
      bestEpoch = epoch + 1;
    }
    log(
      `${label} epoch ${epoch + 1}/${options.epochs} lr ${r!.learningRate.toExponential(2)} loss ${r!.loss.toFixed(4)} ` +
        `train(batch) ${pct(r!.trainAccuracy)} validation ${pct(validationAccuracy)}${improved ? ' *' : ''} ${r!.seconds.toFixed(1)}s`,
    );
    if (epoch + 1 - bestEpoch >= options.patience) {
      log(`${label}: no better validation accuracy for ${options.patience} epochs, stopping`);
      break;
    }
  }
  return { best: best!, bestEpoch, history, seconds };
}

/** A MobileNet-v1 0.25 from scratch with validation selection; writes fixture `name`. */
async function trainFromScratch(
  name: TrainableModelName,
  seed: number,
  epochs: number,
  description: string,
): Promise<void> {
  mathRandom = createPrng(seed ^ 0x5eed);
  const model = buildMobileNetV1(tf, { alpha: 0.25, size: 64, classes: 5, dropout: 0.1, seed });
  const rate = Number(args.get('base-lr') ?? 5e-3);
  const endRate = rate / 100;
  const patience = Number(args.get('patience') ?? epochs);
  model.compile({ optimizer: tf.train.adam(rate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  log(
    `${name}: ${model.countParams()} parameters, seed ${seed}, up to ${epochs} epochs of ${datasetCount(fromScratchData)} images, ` +
      `batch ${BATCH}, Adam ${rate} -> ${endRate} (cosine), patience ${patience}`,
  );
  const started = performance.now();
  const run = await trainSelectingOnValidation(model, name, { epochs, rate, endRate, seed, patience });
  const chosen = await reload(run.best);
  const accuracy = await accuracies(chosen);
  log(
    `${name} done: checkpoint of epoch ${run.bestEpoch}, validation ${pct(accuracy.validation!)}; ` +
      `test ${pct(accuracy.test)} train ${pct(accuracy.train)} shifted test ${pct(accuracy.shiftedTest)}`,
  );
  manifest.models[name] = {
    name,
    parent: name === BASE ? null : BASE,
    description,
    files: writeFixture(name, run.best),
    parameters: model.countParams(),
    accuracy,
    training: {
      seed,
      data: `demoDatasetSpec train minus the validation split (${datasetCount(fit)})${pretrain ? ` + pretrainDatasetSpec train (${datasetCount(pretrain.train)})` : ''}`,
      selection: `checkpoint with the best validation accuracy (${datasetCount(validation)} images, demoValidationSplit), ties to the later epoch; early stop after ${patience} epochs without a better one; test measured once, for the chosen checkpoint`,
      epochs,
      epochsRun: run.history.length,
      chosenEpoch: run.bestEpoch,
      batchSize: BATCH,
      optimizer: { name: 'adam', learningRate: { start: rate, end: endRate }, schedule: 'cosine per epoch' },
      augmentation: 'random flips and quarter turns (8 symmetries of the square)',
      dropout: 0.1,
      batchNormMomentum: 0.9,
      seconds: Math.round(run.seconds),
      wallSeconds: Math.round((performance.now() - started) / 1000),
      secondsPerEpoch: Number((run.seconds / run.history.length).toFixed(1)),
      history: run.history,
    },
  };
  saveManifest(name);
  if (name === BASE && accuracy.test < TARGET_TEST_ACCURACY)
    log(`WARNING base test accuracy ${pct(accuracy.test)} is below ${pct(TARGET_TEST_ACCURACY)}`);
}

if (runs('base')) {
  await trainFromScratch(
    BASE,
    Number(args.get('seed') ?? SEED),
    Number(args.get('epochs') ?? 45),
    'MobileNet-v1 alpha 0.25, 64x64x3, trained from scratch on the synthetic set (demoDatasetSpec), checkpoint chosen on a validation split of its training set',
  );
}

/**
 * More epochs for the committed base (`--stage continue --epochs 4 --lr 5e-4`), selected on the
 * validation split like the base itself (the starting weights are a candidate). Adam starts with
 * fresh moments.
 */
if (stage === 'continue') {
  const record = manifest.models[BASE];
  if (!record) throw new Error('no base model to continue; run --stage base first');
  const rate = Number(args.get('lr') ?? 5e-4);
  const epochs = Number(args.get('epochs') ?? 4);
  const start = loadFiles(BASE);
  const model = await deserializeModel(start);
  model.compile({ optimizer: tf.train.adam(rate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const training = record.training as { history: EpochRecord[]; continued?: unknown[] };
  const run = await trainSelectingOnValidation(model, 'continue', {
    epochs,
    rate,
    endRate: rate / 20,
    seed: SEED + 100 + training.history.length,
    patience: epochs,
    start: { modelJson: new TextDecoder().decode(start.get('model.json')), weights: start.get(WEIGHTS_FILE)! },
  });
  const accuracy = await accuracies(await reload(run.best));
  log(`continue done: chose epoch ${run.bestEpoch} of ${epochs} (0 = unchanged); test ${pct(accuracy.test)}`);
  record.files = writeFixture(BASE, run.best);
  record.accuracy = accuracy;
  training.continued = [
    ...(training.continued ?? []),
    {
      epochs,
      learningRate: rate,
      schedule: `cosine to ${rate / 20}`,
      chosenEpoch: run.bestEpoch,
      history: run.history,
    },
  ];
  saveManifest(BASE);
}

/**
 * `--wait-base true`: generate the data now, then wait until a base trained by this script (a
 * record with a chosen epoch) is in the manifest — so successor stages can be started while the
 * base still trains.
 */
if (args.get('wait-base') === 'true' && stage !== 'base' && stage !== 'all') {
  const baseReady = (): boolean => {
    const onDisk = JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest;
    return typeof onDisk.models[BASE]?.training.chosenEpoch === 'number';
  };
  log('waiting for the base');
  while (!baseReady()) await new Promise((resolve) => setTimeout(resolve, 5000));
  log('base ready');
}

/** Successors from the committed base, on the shifted distribution (a field update's new data). */
async function writeSuccessor(
  name: TrainableModelName,
  model: LayersModel,
  description: string,
  training: Record<string, unknown>,
): Promise<void> {
  const serialized = await serializeModel(model);
  const accuracy = await accuracies(await reload(serialized));
  log(
    `${name} done: validation ${pct(accuracy.validation!)} test ${pct(accuracy.test)} train ${pct(accuracy.train)} shifted test ${pct(accuracy.shiftedTest)}`,
  );
  manifest.models[name] = {
    name,
    parent: BASE,
    description,
    files: writeFixture(name, serialized),
    parameters: model.countParams(),
    accuracy,
    training,
  };
  saveManifest(name);
}

if (runs('successors', 'head')) {
  const base = await deserializeModel(loadFiles(BASE));
  const started = performance.now();
  const options = { epochs: 30, batchSize: 32, learningRate: 1e-3, dropout: 0.1, preprocessing };
  const weights = await retrainHead(base, shifted.train, { ...options, prng: createPrng(SEED + 2) });
  base.getLayer(HEAD_LAYER).setWeights(weights);
  await writeSuccessor(
    'mobilenet-v1-025-64-head',
    base,
    'head-only retrain of the base on the shifted set (shiftedDatasetSpec); every backbone tensor is bit-identical to the base',
    {
      ...options,
      data: 'shiftedDatasetSpec train, features from the base in inference mode',
      seconds: Math.round((performance.now() - started) / 1000),
    },
  );
}

if (runs('successors', 'top2')) {
  // Train the top two blocks + head on a copy that shares their layers, then carry the trained
  // weights into a freshly loaded base, so the written topology is exactly the base's.
  const trainee = await deserializeModel(loadFiles(BASE));
  const started = performance.now();
  const options = { firstTrainedLayer: 'conv_dw_12', epochs: 6, batchSize: 16, learningRate: 1e-3, preprocessing };
  mathRandom = createPrng((SEED + 5) ^ 0x5eed);
  const trained = await fineTuneTop(trainee, shifted.train, { ...options, prng: createPrng(SEED + 5) });
  const model = await deserializeModel(loadFiles(BASE));
  for (const layer of trained) model.getLayer(layer).setWeights(trainee.getLayer(layer).getWeights());
  await writeSuccessor(
    'mobilenet-v1-025-64-top2',
    model,
    'fine-tune of the top two depthwise-separable blocks (conv_dw_12 .. conv_pw_13, batch norm included) and the head on the shifted set; every tensor below is bit-identical to the base',
    {
      ...options,
      trainedLayers: trained,
      optimizer: 'adam',
      augmentation: 'none (activations of the frozen layers computed once, inference mode)',
      data: 'shiftedDatasetSpec train',
      seconds: Math.round((performance.now() - started) / 1000),
    },
  );
}

async function fullFineTune(name: TrainableModelName, rate: number, seed: number, description: string): Promise<void> {
  const model = await deserializeModel(loadFiles(BASE));
  mathRandom = createPrng(seed ^ 0x5eed);
  model.compile({ optimizer: tf.train.adam(rate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const epochs = Number(args.get('epochs') ?? 2);
  const reports = await trainEpochs(model, shifted.train, {
    epochs,
    batchSize: BATCH,
    learningRate: () => rate,
    preprocessing,
    prng: createPrng(seed),
    augment: true,
    onEpoch: (r) =>
      log(
        `${name} epoch ${r.epoch}/${r.epochs} loss ${r.loss.toFixed(4)} train(batch) ${pct(r.trainAccuracy)} ${r.seconds.toFixed(1)}s`,
      ),
  });
  await writeSuccessor(name, model, description, {
    epochs,
    batchSize: BATCH,
    optimizer: { name: 'adam', learningRate: rate },
    augmentation: 'random flips and quarter turns',
    data: 'shiftedDatasetSpec train',
    seconds: Math.round(reports.reduce((sum, r) => sum + r.seconds, 0)),
  });
}

if (runs('successors', 'finetune')) {
  await fullFineTune(
    'mobilenet-v1-025-64-finetune',
    3e-4,
    SEED + 3,
    'short full fine-tune of the base on the shifted set (shiftedDatasetSpec): every tensor changes a little',
  );
}

if (runs('successors', 'finetune-lowlr')) {
  await fullFineTune(
    'mobilenet-v1-025-64-finetune-lowlr',
    3e-5,
    SEED + 4,
    'full fine-tune of the base on the shifted set at a tenth of the fine-tune rate: every tensor changes, by very little',
  );
}

// Not in 'successors' (it does not start from the base, and takes many epochs): --stage scratch.
if (stage === 'all' || stage === 'scratch') {
  await trainFromScratch(
    'mobilenet-v1-025-64-scratch',
    Number(args.get('seed') ?? SCRATCH_SEED),
    Number(args.get('epochs') ?? 30),
    'the base recipe retrained from scratch with another seed and fewer epochs: a different network for the same task (no tensor relates to the base)',
  );
}
log('done');
