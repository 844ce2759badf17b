import { EvalInvalidArgument, EvalNoBaseline } from './errors.js';
import { type ObjectiveInputs, type ObjectiveWeights, objectiveL } from './objective.js';

export interface ScoredCandidate extends ObjectiveInputs {
  variant: string;
}

/** Constraints a candidate must meet to be chosen. Accuracy is in the candidates' own unit. */
export interface SelectionConstraints {
  /**
   * Largest allowed accuracy drop from the baseline, absolute (default 0.01: one point when
   * accuracy is a fraction, as in this package; pass 1 for percent).
   */
  maxAccuracyDrop?: number;
  /** Largest allowed T/T0 (default: none). */
  maxLatencyRatio?: number;
  /** Largest allowed file size in bytes (default: none). */
  maxFileBytes?: number;
}

export interface SelectionOptions {
  /** Variant whose numbers are S0, T0, A0 (default 'theta0'). */
  baseline?: string;
  weights?: ObjectiveWeights;
  constraints?: SelectionConstraints;
  /** L values closer than this are a tie, decided by the smaller file (default 1e-9). */
  tieTolerance?: number;
}

export interface CandidateVerdict {
  variant: string;
  L: number;
  eligible: boolean;
  /** Why the candidate is not eligible (empty when it is). */
  violations: string[];
}

export type DecisionRule = 'lowest-L' | 'tie-smaller-file';

/** The selection and everything behind it, stored and shown as is. */
export interface SelectionDecision {
  chosen: string;
  L: number;
  baseline: string;
  rule: DecisionRule;
  /** One sentence for people. */
  reason: string;
  /** Other eligible variants whose L tied with the chosen one. */
  tiedWith: string[];
  verdicts: CandidateVerdict[];
  constraints: Required<Pick<SelectionConstraints, 'maxAccuracyDrop'>> & SelectionConstraints;
  weights: Required<ObjectiveWeights>;
}

/** The constraints a candidate breaks, as sentences (empty when it meets them all). */
function violationsOf(
  candidate: ScoredCandidate,
  baseline: ScoredCandidate,
  constraints: SelectionDecision['constraints'],
  L: number,
): string[] {
  const violations: string[] = [];
  const drop = baseline.accuracy - candidate.accuracy;
  // A tiny epsilon so that a drop of exactly the limit (e.g. 0.99 - 0.98) is allowed despite binary rounding.
  if (drop > constraints.maxAccuracyDrop + 1e-12) {
    violations.push(`accuracy drop ${drop.toPrecision(4)} > ${constraints.maxAccuracyDrop}`);
  }
  const latencyRatio = candidate.latencyMs / baseline.latencyMs;
  if (constraints.maxLatencyRatio !== undefined && latencyRatio > constraints.maxLatencyRatio) {
    violations.push(`latency ratio ${latencyRatio.toFixed(3)} > ${constraints.maxLatencyRatio}`);
  }
  if (constraints.maxFileBytes !== undefined && candidate.fileBytes > constraints.maxFileBytes) {
    violations.push(`file ${candidate.fileBytes} bytes > ${constraints.maxFileBytes}`);
  }
  if (!Number.isFinite(L)) violations.push('L is not finite');
  return violations;
}

/**
 * The study's selection: argmin L over the candidates that meet the constraints (default: accuracy
 * drop at most one point absolute); ties go to the smaller file. The baseline always meets the
 * accuracy constraint and scores 0, so a decision always exists unless other constraints exclude it.
 */
export function selectCandidate(
  candidates: readonly ScoredCandidate[],
  options: SelectionOptions = {},
): SelectionDecision {
  const baselineName = options.baseline ?? 'theta0';
  const baseline = candidates.find((candidate) => candidate.variant === baselineName);
  if (baseline === undefined) throw new EvalNoBaseline(baselineName);
  const weights = { size: 1, latency: 1, accuracy: 1, fleetWire: 0, ...options.weights };
  const constraints = { maxAccuracyDrop: 0.01, ...options.constraints };
  const tieTolerance = options.tieTolerance ?? 1e-9;
  const verdicts = candidates.map((candidate): CandidateVerdict => {
    const L = objectiveL(candidate, baseline, weights);
    const violations = violationsOf(candidate, baseline, constraints, L);
    return { variant: candidate.variant, L, eligible: violations.length === 0, violations };
  });
  const eligible = verdicts.filter((verdict) => verdict.eligible);
  if (eligible.length === 0) throw new EvalInvalidArgument('no candidate meets the constraints');
  const bestL = Math.min(...eligible.map((verdict) => verdict.L));
  const fileOf = (variant: string): number => candidates.find((candidate) => candidate.variant === variant)!.fileBytes;
  const tied = eligible
    .filter((verdict) => verdict.L - bestL <= tieTolerance)
    .sort((a, b) => fileOf(a.variant) - fileOf(b.variant) || a.L - b.L);
  const winner = tied[0]!;
  const tiedWith = tied.slice(1).map((verdict) => verdict.variant);
  const rule: DecisionRule = tiedWith.length > 0 ? 'tie-smaller-file' : 'lowest-L';
  const excluded = verdicts
    .filter((verdict) => !verdict.eligible)
    .map((verdict) => `${verdict.variant} (${verdict.violations.join('; ')})`);
  const reason =
    (rule === 'lowest-L'
      ? `${winner.variant} has the lowest L (${winner.L.toFixed(4)}) among ${eligible.length} eligible candidates`
      : `${winner.variant} ties on L (${winner.L.toFixed(4)}) with ${tiedWith.join(', ')} and has the smaller file`) +
    (excluded.length > 0 ? `; excluded: ${excluded.join(', ')}` : '');
  return {
    chosen: winner.variant,
    L: winner.L,
    baseline: baselineName,
    rule,
    reason,
    tiedWith,
    verdicts,
    constraints,
    weights,
  };
}
