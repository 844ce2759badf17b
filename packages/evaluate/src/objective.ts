import { EvalInvalidArgument } from './errors.js';

/** What the study's objective reads of one candidate: S, T and A. */
export interface ObjectiveInputs {
  /** S: weight file size in bytes (any unit, only ratios matter). */
  fileBytes: number;
  /** T: time to process one image (median ms). */
  latencyMs: number;
  /** A: test accuracy (fraction or percent, only ratios matter). */
  accuracy: number;
}

/** Optional weights of the three relative changes; all 1 is the study's objective. */
export interface ObjectiveWeights {
  size?: number;
  latency?: number;
  accuracy?: number;
}

/**
 * The study's objective (PAPER.md, "The objective"):
 *   L(theta) = S/S0 + T/T0 - A/A0 - 1
 * i.e. the relative change of size plus that of latency minus that of accuracy. Written as
 *   wS (S/S0 - 1) + wT (T/T0 - 1) - wA (A/A0 - 1)
 * which is the same expression when every weight is 1, and keeps L(theta0) = 0 for any weights.
 * Smaller is better.
 */
export function objectiveL(
  candidate: ObjectiveInputs,
  baseline: ObjectiveInputs,
  weights: ObjectiveWeights = {},
): number {
  for (const name of ['fileBytes', 'latencyMs', 'accuracy'] as const) {
    if (!(Number.isFinite(baseline[name]) && baseline[name] > 0)) {
      throw new EvalInvalidArgument(`baseline ${name} ${String(baseline[name])}`);
    }
    if (!(Number.isFinite(candidate[name]) && candidate[name] >= 0)) {
      throw new EvalInvalidArgument(`candidate ${name} ${String(candidate[name])}`);
    }
  }
  const sizeWeight = weights.size ?? 1;
  const latencyWeight = weights.latency ?? 1;
  const accuracyWeight = weights.accuracy ?? 1;
  return (
    sizeWeight * (candidate.fileBytes / baseline.fileBytes - 1) +
    latencyWeight * (candidate.latencyMs / baseline.latencyMs - 1) -
    accuracyWeight * (candidate.accuracy / baseline.accuracy - 1)
  );
}
