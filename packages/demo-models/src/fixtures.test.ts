import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readArtifact } from '@modelfleet/model-format';
import { classCounts, type Dataset, datasetCount } from '@modelfleet/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoDatasets,
  type DemoDatasets,
  demoDatasetSpec,
  demoValidationSplit,
  splitValidation,
} from './dataset-spec.js';
import {
  DEMO_MODEL_NAMES,
  type DemoModelName,
  demoModelDir,
  loadDemoModelFiles,
  readDemoManifest,
} from './fixtures.js';
import { createTrainingRuntime } from './runtime.js';
import { deserializeModel } from './serialize.js';
import { measureAccuracy } from './training/evaluate.js';

const manifest = readDemoManifest();
let data: DemoDatasets;

beforeAll(async () => {
  await createTrainingRuntime();
  data = createDemoDatasets(demoDatasetSpec);
}, 60_000);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('demo model fixtures', () => {
  it('regenerates the study-shaped data set: 1,360 train / 340 test, balanced, 100 calibration images', () => {
    expect(classCounts(data.train)).toEqual([272, 272, 272, 272, 272]);
    expect(classCounts(data.test)).toEqual([68, 68, 68, 68, 68]);
    expect(classCounts(data.calibration)).toEqual([20, 20, 20, 20, 20]);
    expect(manifest.classNames).toEqual(data.train.classNames);
    expect(manifest.preprocessing).toEqual({ scale: 1 / 127.5, offset: -1 });
  });

  for (const name of DEMO_MODEL_NAMES) {
    it(`${name}: files match the manifest, stay under 1 MB, and model-format reads them`, () => {
      const record = manifest.models[name];
      expect(record, name).toBeDefined();
      for (const [file, { bytes, sha256: digest }] of Object.entries(record!.files)) {
        const content = readFileSync(`${demoModelDir(name)}${file}`);
        expect(content.length).toBe(bytes);
        expect(sha256(content)).toBe(digest);
        expect(content.length).toBeLessThan(1024 * 1024);
      }
      const artifact = readArtifact(loadDemoModelFiles(name));
      expect(artifact.tensors.every((t) => t.encoding.kind === 'float32')).toBe(true);
      // countParams counts every weight, batch-norm moving statistics included: all float32.
      expect(artifact.tensors.reduce((sum, t) => sum + t.bytes.length, 0)).toBe(record!.parameters * 4);
    });

    it(`${name}: loads with stock TF.js and reaches the recorded accuracy on the regenerated test set`, async () => {
      const model = await deserializeModel(loadDemoModelFiles(name));
      const accuracy = await measureAccuracy(model, data.test, demoDatasetSpec.preprocessing);
      model.dispose();
      // Same bytes, same runtime: the same predictions (a one-image slack for float reordering elsewhere).
      expect(Math.abs(accuracy - manifest.models[name]!.accuracy.test)).toBeLessThanOrEqual(1 / 340 + 1e-9);
    }, 60_000);
  }

  it('the base reaches at least 95 % test accuracy (issue 3)', () => {
    expect(manifest.models['mobilenet-v1-025-64']!.accuracy.test).toBeGreaterThanOrEqual(0.95);
  });

  it('the validation split is carved out of the training set, disjoint from the test set', () => {
    const { fit, validation } = splitValidation(data.train, demoValidationSplit);
    expect(classCounts(validation)).toEqual([41, 41, 41, 41, 41]);
    expect(datasetCount(fit) + datasetCount(validation)).toBe(datasetCount(data.train));
    expect(manifest.validationSplit).toEqual(demoValidationSplit);
    const key = (d: Dataset, i: number): string => sha256(d.images.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3));
    const trainImages = new Set([...Array(datasetCount(data.train)).keys()].map((i) => key(data.train, i)));
    const fitImages = new Set([...Array(datasetCount(fit)).keys()].map((i) => key(fit, i)));
    for (let i = 0; i < datasetCount(validation); i++) {
      expect(trainImages.has(key(validation, i))).toBe(true);
      expect(fitImages.has(key(validation, i))).toBe(false);
    }
    for (let i = 0; i < datasetCount(data.test); i++) expect(trainImages.has(key(data.test, i))).toBe(false);
  });

  describe('successors (update pairs for deltas)', () => {
    const tensors = (name: DemoModelName): Map<string, Float32Array> =>
      new Map(
        readArtifact(loadDemoModelFiles(name)).tensors.map((t) => [
          t.name,
          new Float32Array(t.bytes.slice().buffer, 0, t.bytes.length / 4),
        ]),
      );
    const base = tensors('mobilenet-v1-025-64');
    const changed = (other: Map<string, Float32Array>): string[] =>
      [...base]
        .filter(([k, v]) => sha256(new Uint8Array(v.buffer)) !== sha256(new Uint8Array(other.get(k)!.buffer)))
        .map(([k]) => k);
    /** Mean absolute change of the backbone's convolution kernels. */
    const kernelDrift = (other: Map<string, Float32Array>): number => {
      let sum = 0;
      let count = 0;
      for (const [k, v] of base) {
        if (!/^conv.*kernel$/.test(k)) continue;
        const w = other.get(k)!;
        for (let i = 0; i < v.length; i++) sum += Math.abs(v[i]! - w[i]!);
        count += v.length;
      }
      return sum / count;
    };

    it("every successor has the base's tensors, names and shapes, and descends from the committed base", () => {
      for (const name of DEMO_MODEL_NAMES.slice(1)) {
        const other = tensors(name);
        expect([...other.keys()], name).toEqual([...base.keys()]);
        for (const [k, v] of base) expect(other.get(k)!.length, `${name} ${k}`).toBe(v.length);
        expect(manifest.models[name]!.parent).toBe('mobilenet-v1-025-64');
      }
    });

    it('head-only: the head changes and nothing else', () => {
      expect(changed(tensors('mobilenet-v1-025-64-head')).sort()).toEqual(['predictions/bias', 'predictions/kernel']);
    });

    it('top-2 blocks + head: blocks 12 and 13 and the head change, every tensor below them is unchanged', () => {
      const moved = changed(tensors('mobilenet-v1-025-64-top2'));
      const top = (k: string): boolean => /^(conv_(dw|pw)_1[23](_bn)?\/|predictions\/)/.test(k);
      expect(moved.filter((k) => !top(k))).toEqual([]);
      for (const k of [
        'conv_dw_12/depthwise_kernel',
        'conv_pw_13/kernel',
        'conv_pw_13_bn/moving_mean',
        'predictions/kernel',
      ])
        expect(moved).toContain(k);
    });

    it('full fine-tunes move every part of the network, the low-rate one by less', () => {
      const finetune = tensors('mobilenet-v1-025-64-finetune');
      const lowRate = tensors('mobilenet-v1-025-64-finetune-lowlr');
      for (const other of [finetune, lowRate]) {
        expect(changed(other)).toContain('conv1/kernel');
        expect(changed(other).length).toBeGreaterThan(base.size / 2);
      }
      expect(kernelDrift(lowRate)).toBeLessThan(kernelDrift(finetune) / 2);
    });

    it('retrain from scratch with another seed: the same architecture, no tensor in common with the base', () => {
      const scratch = tensors('mobilenet-v1-025-64-scratch');
      expect(changed(scratch)).toHaveLength(base.size);
      expect(manifest.models['mobilenet-v1-025-64-scratch']!.training['seed']).not.toBe(
        manifest.models['mobilenet-v1-025-64']!.training['seed'],
      );
      // Not a fine-tune: its kernels are as far from the base's as two independent networks' are.
      expect(kernelDrift(scratch)).toBeGreaterThan(kernelDrift(tensors('mobilenet-v1-025-64-finetune')) * 5);
    });
  });
});
