import { describe, expect, it } from 'vitest';
import { selectCandidate } from './selection.js';

const study = [
  { variant: 'theta0', accuracy: 99.18, latencyMs: 23, fileBytes: 3200 },
  { variant: 'theta1', accuracy: 90.26, latencyMs: 47, fileBytes: 834 },
  { variant: 'theta2', accuracy: 99.18, latencyMs: 483, fileBytes: 999 },
  { variant: 'theta3', accuracy: 99.08, latencyMs: 486, fileBytes: 1000 },
  { variant: 'theta4', accuracy: 99.18, latencyMs: 23, fileBytes: 1612 },
];

describe('selectCandidate', () => {
  it('picks float16 on the study table, as the study did, and excludes theta1 for its accuracy drop', () => {
    const decision = selectCandidate(study, { constraints: { maxAccuracyDrop: 1 } });
    expect(decision.chosen).toBe('theta4');
    expect(decision.L.toFixed(2)).toBe('-0.50');
    expect(decision.rule).toBe('lowest-L');
    const theta1 = decision.verdicts.find((verdict) => verdict.variant === 'theta1')!;
    expect(theta1.eligible).toBe(false);
    expect(theta1.violations[0]).toMatch(/accuracy drop 8\.92/);
    expect(decision.reason).toMatch(/theta4 has the lowest L/);
    expect(decision.reason).toMatch(/excluded: theta1/);
  });

  it('defaults to one point on a fraction scale', () => {
    const fractions = [
      { variant: 'theta0', accuracy: 0.95, latencyMs: 10, fileBytes: 1000 },
      { variant: 'small-but-bad', accuracy: 0.939, latencyMs: 10, fileBytes: 100 },
      { variant: 'ok', accuracy: 0.941, latencyMs: 10, fileBytes: 300 },
    ];
    const decision = selectCandidate(fractions);
    expect(decision.constraints.maxAccuracyDrop).toBe(0.01);
    expect(decision.chosen).toBe('ok');
    expect(decision.verdicts.find((verdict) => verdict.variant === 'small-but-bad')!.eligible).toBe(false);
  });

  it('allows a drop of exactly the limit', () => {
    const decision = selectCandidate([
      { variant: 'theta0', accuracy: 0.99, latencyMs: 10, fileBytes: 1000 },
      { variant: 'edge', accuracy: 0.98, latencyMs: 10, fileBytes: 100 },
    ]);
    expect(decision.chosen).toBe('edge');
  });

  it('breaks a tie on L with the smaller file and records it', () => {
    // a: S/S0 = 0.5, T/T0 = 1.0; b: S/S0 = 0.4, T/T0 = 1.1 -> both L = -0.5.
    const decision = selectCandidate(
      [
        { variant: 'theta0', accuracy: 0.9, latencyMs: 10, fileBytes: 1000 },
        { variant: 'a', accuracy: 0.9, latencyMs: 10, fileBytes: 500 },
        { variant: 'b', accuracy: 0.9, latencyMs: 11, fileBytes: 400 },
      ],
      { tieTolerance: 1e-9 },
    );
    expect(decision.verdicts.find((verdict) => verdict.variant === 'a')!.L).toBeCloseTo(-0.5, 12);
    expect(decision.verdicts.find((verdict) => verdict.variant === 'b')!.L).toBeCloseTo(-0.5, 12);
    expect(decision.chosen).toBe('b');
    expect(decision.rule).toBe('tie-smaller-file');
    expect(decision.tiedWith).toEqual(['a']);
  });

  it('does not call a clear winner a tie', () => {
    const decision = selectCandidate([
      { variant: 'theta0', accuracy: 0.9, latencyMs: 10, fileBytes: 1000 },
      { variant: 'a', accuracy: 0.9, latencyMs: 10, fileBytes: 500 },
      { variant: 'b', accuracy: 0.9, latencyMs: 12, fileBytes: 400 },
    ]);
    expect(decision.chosen).toBe('a');
    expect(decision.rule).toBe('lowest-L');
  });

  it('applies latency and file constraints, and weights', () => {
    const decision = selectCandidate(study, { constraints: { maxAccuracyDrop: 1, maxFileBytes: 1500 } });
    // theta0 (3200) and theta4 (1612) are now too big; of theta2/theta3, theta2 has the lower L.
    expect(decision.chosen).toBe('theta2');
    expect(decision.verdicts.filter((verdict) => verdict.eligible).map((verdict) => verdict.variant)).toEqual([
      'theta2',
      'theta3',
    ]);
    expect(decision.verdicts.find((verdict) => verdict.variant === 'theta4')!.violations[0]).toMatch(/file 1612/);
    const latencyBound = selectCandidate(study, { constraints: { maxAccuracyDrop: 100, maxLatencyRatio: 1.5 } });
    expect(latencyBound.verdicts.filter((verdict) => verdict.eligible).map((verdict) => verdict.variant)).toEqual([
      'theta0',
      'theta4',
    ]);
    // Latency not counted at all: theta2's smaller file now wins.
    expect(selectCandidate(study, { constraints: { maxAccuracyDrop: 1 }, weights: { latency: 0 } }).chosen).toBe(
      'theta2',
    );
  });

  it('with a fleet wire weight, prefers the candidate the fleet reaches by a small delta; 0 keeps the study choice', () => {
    // plain and reuse: same accuracy, reuse a bit larger and slower, but its delta to the fleet is a fifth
    const candidates = [
      { variant: 'theta0', accuracy: 0.9, latencyMs: 10, fileBytes: 1000, wireBytes: 900, fleetWireBytes: 900 },
      { variant: 'plain', accuracy: 0.9, latencyMs: 10, fileBytes: 250, wireBytes: 220, fleetWireBytes: 100 },
      { variant: 'reuse', accuracy: 0.9, latencyMs: 10.1, fileBytes: 252, wireBytes: 222, fleetWireBytes: 20 },
    ];
    const study = selectCandidate(candidates);
    expect(study.chosen).toBe('plain');
    expect(study.weights).toEqual({ size: 1, latency: 1, accuracy: 1, fleetWire: 0 });
    const weighted = selectCandidate(candidates, { weights: { fleetWire: 1 } });
    expect(weighted.chosen).toBe('reuse');
    expect(weighted.weights.fleetWire).toBe(1);
    // L(plain) - L(reuse) = 0.002 + 0.01 (study terms) against (100 - 20) / 900 of fleet wire
    const L = (variant: string) => weighted.verdicts.find((verdict) => verdict.variant === variant)!.L;
    expect(L('plain') - L('reuse')).toBeCloseTo(80 / 900 - 0.002 - 0.01, 12);
    // the accuracy constraint still applies: a reuse candidate that loses two points is excluded
    const worse = candidates.map((c) => (c.variant === 'reuse' ? { ...c, accuracy: 0.88 } : c));
    const constrained = selectCandidate(worse, { weights: { fleetWire: 10 } });
    expect(constrained.chosen).toBe('plain');
    expect(constrained.verdicts.find((verdict) => verdict.variant === 'reuse')!.eligible).toBe(false);
  });

  it('needs the baseline among the candidates', () => {
    expect(() => selectCandidate(study.slice(1))).toThrow(expect.objectContaining({ code: 'MF_ERR_EVAL_NO_BASELINE' }));
  });
});
