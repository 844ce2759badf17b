import { materializeStock } from '@modelfleet/model-format';
import { candidateSet } from '@modelfleet/quantize';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CandidateVariant, type EvaluationProgress, evaluateCandidates } from './evaluate-candidates.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { artifactFromModel } from './model-artifact.js';
import {
  TINY_PREPROCESSING,
  buildSmallConvNet,
  buildTinyModel,
  labelledByModel,
  tinyDataset,
} from './tiny-model.fixture.js';

let runtime: EvalRuntime;
beforeAll(async () => {
  runtime = await createRuntime();
});

const float16: CandidateVariant = {
  id: 'theta4',
  label: 'float16',
  needsCalibration: false,
  transform: (artifact) => materializeStock(artifact, { dtype: 'float16' }),
};

/** Stores the ranges the way quantize's theta2 does, weights untouched: only the simulation differs. */
const activationsOnly: CandidateVariant = {
  id: 'int8-activations',
  label: 'int8 activations',
  needsCalibration: true,
  transform: (artifact, { ranges }) => ({
    modelJson: {
      ...artifact.modelJson,
      modelfleet: { version: 1, variant: 'int8-activations', activationRanges: ranges! },
    },
    tensors: artifact.tensors,
  }),
};

describe('evaluateCandidates', () => {
  it('measures theta0 and each variant, simulates integer artifacts, scores L and selects', async () => {
    const floatArtifact = await artifactFromModel(runtime.tf, buildTinyModel(runtime.tf));
    const progress: EvaluationProgress[] = [];
    const result = await evaluateCandidates(floatArtifact, {
      test: tinyDataset(48),
      train: tinyDataset(24),
      calibration: tinyDataset(16),
      preprocessing: TINY_PREPROCESSING,
      variants: [float16, activationsOnly],
      latencyRuns: 5,
      warmupRuns: 1,
      onProgress: (event) => progress.push(event),
    });
    expect(result.rows.map((row) => row.variant)).toEqual(['theta0', 'theta4', 'int8-activations']);
    const [theta0, theta4, int8] = result.rows;
    expect(theta0!.L).toBe(0);
    expect(theta0!.encoding).toBe('float32');
    expect(theta4!.encoding).toBe('float16');
    // The tiny model's bundle is mostly model.json; its weight bytes halve.
    const weightBytes = (variant: string): number =>
      result.artifacts.get(variant)!.artifact.tensors.reduce((sum, tensor) => sum + tensor.bytes.length, 0);
    expect(weightBytes('theta4') * 2).toBe(weightBytes('theta0'));
    expect(theta4!.fileBytes).not.toBe(theta0!.fileBytes);
    expect(theta0!.wireBytes).toBeGreaterThan(0);
    expect(theta0!.simulated).toBe(false);
    expect(int8!.simulated).toBe(true);
    expect(int8!.quantizationPlan!.some((point) => point.treatment === 'quantized')).toBe(true);
    expect(result.ranges!.method).toBe('minmax');
    for (const row of result.rows) {
      expect(row.trainAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.latency.runs).toBe(5);
      expect(row.latency.medianMs).toBeGreaterThan(0);
      expect(row.latency.p90Ms).toBeGreaterThanOrEqual(row.latency.medianMs);
      expect(row.confusion.flat().reduce((sum, count) => sum + count, 0)).toBe(48);
      expect(row.bundleSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(theta4!.L).toBeCloseTo(
      theta4!.fileBytes / theta0!.fileBytes +
        theta4!.latency.medianMs / theta0!.latency.medianMs -
        theta4!.accuracy / theta0!.accuracy -
        1,
      12,
    );
    const chosen = result.rows.find((row) => row.variant === result.decision.chosen)!;
    expect(chosen.eligible).toBe(true);
    expect(chosen.reason).toMatch(/^chosen: /);
    expect(Math.min(...result.rows.filter((row) => row.eligible).map((row) => row.L))).toBe(chosen.L);
    expect(progress.at(-1)).toMatchObject({ stage: 'select', completed: progress.at(-1)!.total });
    expect(progress.map((event) => event.completed)).toEqual(progress.map((_, index) => index + 1));
    expect(result.artifacts.get('theta4')!.bundle.length).toBe(theta4!.fileBytes);
  });

  it('refuses a dataset that does not fit the model', async () => {
    const floatArtifact = await artifactFromModel(runtime.tf, buildTinyModel(runtime.tf));
    const wrong = { ...tinyDataset(4), classNames: ['a', 'b'] };
    await expect(
      evaluateCandidates(floatArtifact, {
        test: wrong,
        calibration: tinyDataset(4),
        preprocessing: TINY_PREPROCESSING,
        variants: [],
      }),
    ).rejects.toMatchObject({ code: 'MF_ERR_EVAL_DATASET_MISMATCH' });
  });
});

describe('evaluateCandidates with the quantize candidate set', () => {
  it('runs every candidate; simulated theta2/theta3 and per-channel int8 agree with float on most images', async () => {
    const { tf } = runtime;
    const model = buildSmallConvNet(tf);
    const test = labelledByModel(tf, model, 120, 8, TINY_PREPROCESSING);
    const floatArtifact = await artifactFromModel(tf, model);
    const result = await evaluateCandidates(floatArtifact, {
      test,
      calibration: test,
      preprocessing: TINY_PREPROCESSING,
      variants: candidateSet,
      latencyRuns: 3,
      warmupRuns: 1,
      brotliQuality: 5,
    });
    const byId = new Map(result.rows.map((row) => [row.variant, row]));
    expect([...byId.keys()]).toEqual(['theta0', ...candidateSet.map((variant) => variant.id)]);
    expect(byId.get('theta0')!.accuracy).toBe(1);
    expect(byId.get('theta2')!.simulated).toBe(true);
    expect(byId.get('theta3')!.simulated).toBe(true);
    expect(byId.get('theta3')!.quantizationPlan![0]!.treatment).toBe('quantized (uint8 input)');
    expect(byId.get('int8-per-channel')!.simulated).toBe(false);
    expect(byId.get('int8-per-channel')!.encoding).toMatch(/^int8-per-channel/);
    // Agreement with the float model: int8 weights alone barely move predictions; int8 activations a little more.
    expect(byId.get('int8-per-channel')!.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(byId.get('theta2')!.accuracy).toBeGreaterThanOrEqual(0.95);
    expect(byId.get('theta3')!.accuracy).toBe(byId.get('theta2')!.accuracy);
    for (const row of result.rows) expect(row.fileBytes).toBeGreaterThan(0);
    process.stderr.write(
      JSON.stringify([[...test.labels].join(''), result.rows.map((row) => [row.variant, row.accuracy])]),
    );
  });
});
