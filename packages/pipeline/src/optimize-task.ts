/**
 * The CPU-heavy half of the optimize job, run in a worker thread of the job host's cpu pool: decode the
 * float model, build every candidate of the policy, measure each on TF.js (wasm) and select. Input and
 * output are plain structured-cloneable data; nothing here touches the database or the blob store.
 */
import type { CpuTask } from '@modelfleet/jobs';
import type { OptimizationPolicy } from '@modelfleet/contracts';
import { decodeDataset } from '@modelfleet/datasets';
import { evaluateCandidates, type CandidateRow, type SelectionDecision } from '@modelfleet/evaluate';
import { readArtifact } from '@modelfleet/model-format';
import { candidateById } from '@modelfleet/quantize';

export interface OptimizeTaskInput {
  /** model.json and its shards, by file name. */
  modelFiles: [string, Uint8Array][];
  /** Datasets in the engine's file format. */
  test: Uint8Array;
  calibration?: Uint8Array;
  train?: Uint8Array;
  preprocessing: { scale: number; offset: number };
  policy: OptimizationPolicy;
}

export interface OptimizeTaskOutput {
  rows: Omit<CandidateRow, 'confusion' | 'quantizationPlan'>[];
  /** Per variant: the confusion matrix and, for simulated rows, where the simulation rounds. */
  details: Record<string, { confusion: number[][]; quantizationPoints?: number; classNames: string[] }>;
  decision: SelectionDecision;
  bundles: { variant: string; bundle: Uint8Array }[];
  runtime: { backend: string; simd: boolean; threads: boolean };
}

export const runOptimization: CpuTask<OptimizeTaskInput, OptimizeTaskOutput> = async (input, context) => {
  const artifact = readArtifact(new Map(input.modelFiles));
  const test = decodeDataset(input.test);
  const variants = input.policy.variants.map((id) => candidateById(id));
  // Calibration data is only read when a variant needs it (theta2/theta3), and the job then always
  // supplies a calibration (or train) set; otherwise evaluate only checks the shape of what it is given.
  const calibration = input.calibration !== undefined ? decodeDataset(input.calibration) : test;
  const evaluation = await evaluateCandidates(artifact, {
    test,
    calibration,
    ...(input.train !== undefined ? { train: decodeDataset(input.train) } : {}),
    preprocessing: input.preprocessing,
    variants,
    latencyRuns: input.policy.latencyRuns,
    constraints: { maxAccuracyDrop: input.policy.constraints.maxAccuracyDropPoints / 100 },
    weights: input.policy.weights,
    onProgress: (progress) => context.progress((progress.completed / progress.total) * 100),
  });
  const details: OptimizeTaskOutput['details'] = {};
  const rows = evaluation.rows.map(({ confusion, quantizationPlan, ...row }) => {
    details[row.variant] = {
      confusion,
      classNames: test.classNames,
      ...(quantizationPlan !== undefined ? { quantizationPoints: quantizationPlan.length } : {}),
    };
    return row;
  });
  return {
    rows,
    details,
    decision: evaluation.decision,
    bundles: [...evaluation.artifacts.entries()].map(([variant, { bundle }]) => ({ variant, bundle })),
    runtime: evaluation.runtime,
  };
};
