import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DemoDatasetSpec, ValidationSplitSpec } from './dataset-spec.js';

/**
 * The committed demo models: the base and its successors (the update pairs of delta work): head-only
 * retrain, top-2-blocks + head fine-tune, full fine-tune, full fine-tune at a low rate, and the base's
 * recipe retrained from scratch with another seed (a different network for the same task).
 */
export const DEMO_MODEL_NAMES = [
  'mobilenet-v1-025-64',
  'mobilenet-v1-025-64-head',
  'mobilenet-v1-025-64-top2',
  'mobilenet-v1-025-64-finetune',
  'mobilenet-v1-025-64-finetune-lowlr',
  'mobilenet-v1-025-64-scratch',
] as const;
export type DemoModelName = (typeof DEMO_MODEL_NAMES)[number];
/** Every model the training script can write: the committed ones. */
export type TrainableModelName = DemoModelName;

export interface DemoModelRecord {
  name: TrainableModelName;
  /** The model this one was derived from (null for the base). */
  parent: TrainableModelName | null;
  description: string;
  files: Record<string, { bytes: number; sha256: string }>;
  parameters: number;
  /**
   * Top-1 accuracy (0..1), inference mode on wasm, measured after training: on `demoDatasetSpec`'s
   * validation split (carved from its training set, see `demoValidationSplit`), test set (measured
   * once, for the chosen checkpoint) and whole training set, and on the shifted test set.
   */
  accuracy: { validation?: number; test: number; train: number; shiftedTest: number };
  training: Record<string, unknown>;
}

export interface DemoManifest {
  inputShape: [number, number, number];
  classNames: string[];
  preprocessing: { scale: number; offset: number };
  /** The data the accuracies are measured on (train and test); the successors also report shiftedTest. */
  dataset: DemoDatasetSpec;
  /** The validation split of `dataset`'s training set that checkpoint selection looks at. */
  validationSplit?: ValidationSplitSpec;
  /** The harder distribution the base was first trained on. */
  pretrainDataset?: DemoDatasetSpec;
  shiftedDataset: DemoDatasetSpec;
  runtime: string;
  models: Partial<Record<TrainableModelName, DemoModelRecord>>;
}

/** The fixtures folder (committed with the package). */
export function fixturesDir(): string {
  return fileURLToPath(new URL('../fixtures/', import.meta.url));
}

/** The folder of one demo model (model.json and its weight shard). */
export function demoModelDir(name: DemoModelName): string {
  return fileURLToPath(new URL(`../fixtures/${name}/`, import.meta.url));
}

/** The path of a demo model's model.json. */
export function demoModelPath(name: DemoModelName): string {
  return fileURLToPath(new URL(`../fixtures/${name}/model.json`, import.meta.url));
}

/** model.json and every weight shard it lists, by their paths relative to model.json — the input of model-format's readArtifact. */
export function loadDemoModelFiles(name: DemoModelName): Map<string, Uint8Array> {
  return loadModelFolder(demoModelDir(name));
}

/** model.json and its shards from a folder (`dir` ends with a separator). */
export function loadModelFolder(dir: string): Map<string, Uint8Array> {
  const modelJson = new Uint8Array(readFileSync(`${dir}model.json`));
  const parsed = JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest: Array<{ paths: string[] }> };
  const files = new Map<string, Uint8Array>([['model.json', modelJson]]);
  for (const path of parsed.weightsManifest.flatMap((group) => group.paths)) {
    files.set(path, new Uint8Array(readFileSync(`${dir}${path}`)));
  }
  return files;
}

export function readDemoManifest(): DemoManifest {
  return JSON.parse(readFileSync(`${fixturesDir()}manifest.json`, 'utf8')) as DemoManifest;
}
