import { describe, expect, it } from 'vitest';
import { objectiveL } from './objective.js';

// The study's printed table (PAPER.md): test accuracy %, ms / image, file KB.
const theta0 = { accuracy: 99.18, latencyMs: 23, fileBytes: 3200 };
const table = {
  theta1: { accuracy: 90.26, latencyMs: 47, fileBytes: 834 },
  theta2: { accuracy: 99.18, latencyMs: 483, fileBytes: 999 },
  theta3: { accuracy: 99.08, latencyMs: 486, fileBytes: 1000 },
  theta4: { accuracy: 99.18, latencyMs: 23, fileBytes: 1612 },
};

describe('objectiveL', () => {
  it('reproduces the study printed L for theta2, theta3 and theta4 from the table inputs', () => {
    expect(objectiveL(table.theta2, theta0).toFixed(2)).toBe('19.31');
    expect(objectiveL(table.theta3, theta0).toFixed(2)).toBe('19.44');
    expect(objectiveL(table.theta4, theta0).toFixed(2)).toBe('-0.50');
  });

  it('gives 0.39 for theta1, not the printed 0.21 (the study misprinted that row)', () => {
    const L = objectiveL(table.theta1, theta0);
    expect(L.toFixed(2)).toBe('0.39');
    expect(L.toFixed(2)).not.toBe('0.21');
  });

  it('scores the baseline 0 whatever the weights', () => {
    expect(objectiveL(theta0, theta0)).toBe(0);
    expect(objectiveL(theta0, theta0, { size: 3, latency: 0.5, accuracy: 7 })).toBe(0);
  });

  it('weights each relative change', () => {
    const half = { accuracy: 99.18, latencyMs: 23, fileBytes: 1600 };
    expect(objectiveL(half, theta0, { size: 2 })).toBeCloseTo(-1, 12);
    const slower = { accuracy: 99.18, latencyMs: 46, fileBytes: 3200 };
    expect(objectiveL(slower, theta0, { latency: 0.5 })).toBeCloseTo(0.5, 12);
    const worse = { accuracy: 49.59, latencyMs: 23, fileBytes: 3200 };
    expect(objectiveL(worse, theta0, { accuracy: 2 })).toBeCloseTo(1, 12);
  });

  it('adds wF (F/W0 - 1) for the fleet wire bytes only when its weight is set', () => {
    const base = { ...theta0, wireBytes: 3000, fleetWireBytes: 3000 };
    const reuse = { ...table.theta4, wireBytes: 1500, fleetWireBytes: 300 };
    const study = objectiveL(reuse, base);
    // default weight 0: exactly the study's L, whatever F is
    expect(objectiveL(reuse, base, { fleetWire: 0 })).toBe(study);
    expect(objectiveL({ ...reuse, fleetWireBytes: 1 }, base)).toBe(study);
    // F/W0 = 0.1: the term is 0.5 * (0.1 - 1) = -0.45
    expect(objectiveL(reuse, base, { fleetWire: 0.5 })).toBeCloseTo(study - 0.45, 12);
    // without F, every device downloads the full file: F = W = 1500
    expect(objectiveL({ ...reuse, fleetWireBytes: undefined }, base, { fleetWire: 1 })).toBeCloseTo(study - 0.5, 12);
    // theta0 downloaded in full scores 0 whatever the weight
    expect(objectiveL(base, base, { fleetWire: 3 })).toBe(0);
  });

  it('needs W0 and F once the fleet wire weight is set', () => {
    const reuse = { ...table.theta4, wireBytes: 1500, fleetWireBytes: 300 };
    expect(() => objectiveL(reuse, theta0, { fleetWire: 1 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }),
    );
    expect(() => objectiveL(table.theta4, { ...theta0, wireBytes: 3000 }, { fleetWire: 1 })).toThrow(/fleetWireBytes/);
    expect(() => objectiveL(reuse, { ...theta0, wireBytes: 3000 }, { fleetWire: Number.NaN })).toThrow(
      /fleetWire weight/,
    );
  });

  it('refuses a zero or non-finite baseline', () => {
    expect(() => objectiveL(table.theta2, { ...theta0, latencyMs: 0 })).toThrow(
      expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }),
    );
    expect(() => objectiveL({ ...table.theta2, accuracy: Number.NaN }, theta0)).toThrow(
      expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }),
    );
  });
});
