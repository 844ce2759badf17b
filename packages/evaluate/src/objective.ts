import { EvalInvalidArgument } from './errors.js';

/** What the study's objective reads of one candidate: S, T and A. */
export interface ObjectiveInputs {
  /** S: weight file size in bytes (any unit, only ratios matter). */
  fileBytes: number;
  /** T: time to process one image (median ms). */
  latencyMs: number;
  /** A: test accuracy (fraction or percent, only ratios matter). */
  accuracy: number;
  /** W: full wire size in bytes (what a full download costs); the baseline's is W0. */
  wireBytes?: number;
  /**
   * F: the wire bytes it costs to move the fleet to this candidate (per device a delta from its
   * installed artifact, capped at W; summed over devices). Absent: every device downloads W.
   */
  fleetWireBytes?: number;
}

/** Optional weights of the relative changes; size, latency, accuracy 1 and fleetWire 0 is the study's objective. */
export interface ObjectiveWeights {
  size?: number;
  latency?: number;
  accuracy?: number;
  /** Weight of F / W0 (default 0, the study's L). */
  fleetWire?: number;
}

/**
 * The study's objective (PAPER.md, "The objective"):
 *   L(theta) = S/S0 + T/T0 - A/A0 - 1
 * i.e. the relative change of size plus that of latency minus that of accuracy. Written as
 *   wS (S/S0 - 1) + wT (T/T0 - 1) - wA (A/A0 - 1)
 * which is the same expression when every weight is 1, and keeps L(theta0) = 0 for any weights.
 * With a fleet-wire weight wF > 0 (default 0, when the term is left out entirely) L also gets
 *   + wF (F/W0 - 1)
 * F = the candidate's fleet wire bytes (its full wire size W when not given), W0 = theta0's full wire
 * size: a candidate the fleet reaches by small deltas scores lower. Smaller is better.
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
  const fleetWeight = weights.fleetWire ?? 0;
  const study =
    sizeWeight * (candidate.fileBytes / baseline.fileBytes - 1) +
    latencyWeight * (candidate.latencyMs / baseline.latencyMs - 1) -
    accuracyWeight * (candidate.accuracy / baseline.accuracy - 1);
  if (fleetWeight === 0) return study;
  if (!(Number.isFinite(fleetWeight) && fleetWeight > 0))
    throw new EvalInvalidArgument(`fleetWire weight ${fleetWeight}`);
  const w0 = baseline.wireBytes;
  if (w0 === undefined || !(Number.isFinite(w0) && w0 > 0))
    throw new EvalInvalidArgument(`baseline wireBytes ${String(w0)} (needed by the fleetWire weight)`);
  const fleet = candidate.fleetWireBytes ?? candidate.wireBytes;
  if (fleet === undefined || !(Number.isFinite(fleet) && fleet >= 0))
    throw new EvalInvalidArgument(`candidate fleetWireBytes ${String(fleet)} (needed by the fleetWire weight)`);
  return study + fleetWeight * (fleet / w0 - 1);
}
