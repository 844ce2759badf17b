import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readArtifact } from '@modelfleet/model-format';
import { classCounts } from '@modelfleet/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDemoDatasets, type DemoDatasets, demoDatasetSpec } from './dataset-spec.js';
import { DEMO_MODEL_NAMES, demoModelDir, loadDemoModelFiles, readDemoManifest } from './fixtures.js';
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

  it('the head-only successor changes the head and nothing else; the fine-tune changes the backbone', () => {
    const tensors = (name: (typeof DEMO_MODEL_NAMES)[number]): Map<string, string> =>
      new Map(readArtifact(loadDemoModelFiles(name)).tensors.map((t) => [t.name, sha256(t.bytes)]));
    const base = tensors('mobilenet-v1-025-64');
    const head = tensors('mobilenet-v1-025-64-head');
    const finetune = tensors('mobilenet-v1-025-64-finetune');
    expect([...head.keys()]).toEqual([...base.keys()]);
    expect([...finetune.keys()]).toEqual([...base.keys()]);
    const changed = (other: Map<string, string>): string[] =>
      [...base].filter(([k, v]) => other.get(k) !== v).map(([k]) => k);
    expect(changed(head).sort()).toEqual(['predictions/bias', 'predictions/kernel']);
    expect(changed(finetune)).toContain('conv1/kernel');
    expect(changed(finetune).length).toBeGreaterThan(base.size / 2);
  });
});
