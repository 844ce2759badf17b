/**
 * The CPU-heavy half of the optimize job, run in a worker thread of the job host's cpu pool: decode the
 * float model, build every candidate of the policy, measure each on TF.js (wasm) and select. Input and
 * output are plain structured-cloneable data; nothing here touches the database or the blob store.
 */
import type { CpuTask } from '@modelfleet/jobs';
import type { OptimizationPolicy } from '@modelfleet/contracts';
import { decodeDataset } from '@modelfleet/datasets';
import {
  evaluateCandidates,
  selectCandidate,
  type CandidateRow,
  type CandidateVariant,
  type SelectionDecision,
} from '@modelfleet/evaluate';
import { type ModelArtifact, decodeBundle, readArtifact } from '@modelfleet/model-format';
import {
  DELTA_FRIENDLY_VARIANT_IDS,
  type DeltaFriendlyVariantId,
  type DeltaReuseSummary,
  candidateById,
  deltaFriendlyVariant,
  deltaReuseOf,
} from '@modelfleet/quantize';
import { type CandidateFleetWire, type FleetBasis, fleetWireOf } from './fleet-wire.js';

export interface OptimizeTaskInput {
  /** model.json and its shards, by file name. */
  modelFiles: [string, Uint8Array][];
  /** Datasets in the engine's file format. */
  test: Uint8Array;
  calibration?: Uint8Array;
  train?: Uint8Array;
  preprocessing: { scale: number; offset: number };
  policy: OptimizationPolicy;
  /** The policy channel's latest release of another version: the grids the `+reuse` variants reuse. */
  previousRelease?: { number: number; artifactSha256: string; bundle: Uint8Array };
  /** What the channel's fleet runs; every candidate's fleet wire bytes are measured against it. */
  fleet?: FleetBasis;
}

/** Per variant, besides the row: what the candidate table and the API show. */
export interface CandidateDetails {
  confusion: number[][];
  quantizationPoints?: number;
  classNames: string[];
  /** Delta-friendly candidates: the release whose grids they reused, and how much was reused. */
  deltaReuse?: DeltaReuseSummary & { release: number; artifactSha256: string };
  /** Delta size per fleet artifact (sha256 -> bytes) and the fleet's wire bytes. */
  deltaBytes?: Record<string, number>;
  fleetWireBytes?: number;
  fleet?: CandidateFleetWire;
}

export interface OptimizeTaskOutput {
  rows: Omit<CandidateRow, 'confusion' | 'quantizationPlan'>[];
  /** Per variant: the confusion matrix and, for simulated rows, where the simulation rounds. */
  details: Record<string, CandidateDetails>;
  decision: SelectionDecision;
  /** Variants of the policy not built, and why (a `+reuse` variant while the channel has no release). */
  skipped: { variant: string; reason: string }[];
  bundles: { variant: string; bundle: Uint8Array }[];
  runtime: { backend: string; simd: boolean; threads: boolean };
}

const REUSE_TWINS: Readonly<Record<string, DeltaFriendlyVariantId>> = {
  theta1: 'theta1+reuse',
  'int8-per-channel': 'int8-per-channel+reuse',
};

const isDeltaFriendly = (id: string): id is DeltaFriendlyVariantId =>
  (DELTA_FRIENDLY_VARIANT_IDS as readonly string[]).includes(id);

/**
 * The candidates a policy asks for. `+reuse` variants are those the policy lists, plus (unless
 * `deltaFriendly.enabled` is false) the twin of every listed theta1 / int8-per-channel; they are built
 * only when there is a previous release to reuse, else reported as skipped.
 */
export function resolveVariants(
  policy: Pick<OptimizationPolicy, 'variants' | 'deltaFriendly'>,
  previous: { number: number; artifact: ModelArtifact } | undefined,
): { variants: CandidateVariant[]; skipped: { variant: string; reason: string }[] } {
  const plain = policy.variants.filter((id) => !isDeltaFriendly(id));
  const reuse = new Set<DeltaFriendlyVariantId>(policy.variants.filter(isDeltaFriendly));
  if (policy.deltaFriendly?.enabled !== false)
    for (const id of plain) if (REUSE_TWINS[id] !== undefined) reuse.add(REUSE_TWINS[id]);
  const variants: CandidateVariant[] = plain.map((id) => candidateById(id));
  const skipped: { variant: string; reason: string }[] = [];
  const { enabled: _enabled, ...tolerance } = policy.deltaFriendly ?? {};
  for (const id of reuse) {
    if (previous === undefined) skipped.push({ variant: id, reason: 'the channel has no earlier release to reuse' });
    else variants.push(deltaFriendlyVariant(id, previous.artifact, tolerance));
  }
  return { variants, skipped };
}

export const runOptimization: CpuTask<OptimizeTaskInput, OptimizeTaskOutput> = async (input, context) => {
  const artifact = readArtifact(new Map(input.modelFiles));
  const test = decodeDataset(input.test);
  const previous =
    input.previousRelease !== undefined
      ? { ...input.previousRelease, artifact: decodeBundle(input.previousRelease.bundle) }
      : undefined;
  const { variants, skipped } = resolveVariants(input.policy, previous);
  const fleetWeight = input.policy.weights.fleetWire ?? 0;
  const { fleetWire: _fleetWire, ...studyWeights } = input.policy.weights;
  const maxAccuracyDrop = input.policy.constraints.maxAccuracyDropPoints / 100;
  // the fleet's deltas take the last part of the progress when there is a fleet to measure against
  const evaluationShare = input.fleet !== undefined ? 80 : 100;
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
    constraints: { maxAccuracyDrop },
    // the study's terms here; the fleet-wire term joins below, once the deltas are measured
    weights: studyWeights,
    onProgress: (progress) => context.progress((progress.completed / progress.total) * evaluationShare),
  });
  const details: OptimizeTaskOutput['details'] = {};
  let rows = evaluation.rows.map(({ confusion, quantizationPlan, ...row }) => {
    const reuse = deltaReuseOf(evaluation.artifacts.get(row.variant)!.artifact);
    details[row.variant] = {
      confusion,
      classNames: test.classNames,
      ...(quantizationPlan !== undefined ? { quantizationPoints: quantizationPlan.length } : {}),
      ...(reuse !== undefined && previous !== undefined
        ? { deltaReuse: { ...reuse, release: previous.number, artifactSha256: previous.artifactSha256 } }
        : {}),
    };
    return row;
  });

  const fleetWire = new Map<string, number>();
  if (input.fleet !== undefined) {
    for (const [index, row] of rows.entries()) {
      const fleet = fleetWireOf(input.fleet, {
        bundle: evaluation.artifacts.get(row.variant)!.bundle,
        bundleSha256: row.bundleSha256,
        wireBytes: row.wireBytes,
      });
      fleetWire.set(row.variant, fleet.fleetWireBytes);
      Object.assign(details[row.variant]!, {
        deltaBytes: fleet.deltaBytes,
        fleetWireBytes: fleet.fleetWireBytes,
        fleet,
      });
      context.progress(evaluationShare + ((index + 1) / rows.length) * (100 - evaluationShare));
    }
  }

  let decision = evaluation.decision;
  if (fleetWeight > 0) {
    // Select again with the fleet's wire bytes in L (a candidate without them counts its full wire size).
    decision = selectCandidate(
      rows.map((row) => {
        const fleetWireBytes = fleetWire.get(row.variant);
        return {
          variant: row.variant,
          fileBytes: row.fileBytes,
          latencyMs: row.latency.medianMs,
          accuracy: row.accuracy,
          wireBytes: row.wireBytes,
          ...(fleetWireBytes !== undefined ? { fleetWireBytes } : {}),
        };
      }),
      { baseline: 'theta0', constraints: { maxAccuracyDrop }, weights: input.policy.weights },
    );
    rows = rows.map((row, index) => {
      const verdict = decision.verdicts[index]!;
      const reason =
        row.variant === decision.chosen
          ? `chosen: ${decision.reason}`
          : verdict.eligible
            ? `L ${verdict.L.toFixed(4)} above the chosen ${decision.chosen} (${decision.L.toFixed(4)})`
            : `not eligible: ${verdict.violations.join('; ')}`;
      return { ...row, L: verdict.L, eligible: verdict.eligible, reason };
    });
  }
  return {
    rows,
    details,
    decision,
    skipped,
    bundles: [...evaluation.artifacts.entries()].map(([variant, { bundle }]) => ({ variant, bundle })),
    runtime: evaluation.runtime,
  };
};
