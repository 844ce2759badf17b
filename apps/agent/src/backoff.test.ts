import { describe, expect, it } from 'vitest';
import { backoffDelayMs, POLL_JITTER_FRACTION, pollDelayMs } from './backoff.js';

describe('poll and backoff delays', () => {
  it('polls after the server interval plus at most 20 % jitter, never below the minimum', () => {
    expect(pollDelayMs(30, 1, () => 0)).toBe(30_000);
    expect(pollDelayMs(30, 1, () => 0.999999)).toBeLessThanOrEqual(30_000 * (1 + POLL_JITTER_FRACTION));
    expect(pollDelayMs(30, 1, () => 0.5)).toBe(33_000);
    expect(pollDelayMs(0.001, 5, () => 0)).toBe(5_000);
  });

  it('backs off exponentially within [base/2, min(cap, base*2^(n-1))]', () => {
    for (let failures = 1; failures <= 40; failures++) {
      const ceiling = Math.min(300_000, 2_000 * 2 ** (failures - 1));
      expect(backoffDelayMs(failures, 2, 300, () => 0)).toBe(1_000);
      expect(backoffDelayMs(failures, 2, 300, () => 1)).toBe(ceiling);
      const sample = backoffDelayMs(failures, 2, 300, Math.random);
      expect(sample).toBeGreaterThanOrEqual(1_000);
      expect(sample).toBeLessThanOrEqual(ceiling);
    }
    // capped: the 20th failure waits at most the cap, not 2^19 * base
    expect(backoffDelayMs(20, 2, 300, () => 1)).toBe(300_000);
    // the spread is real: jitter varies the delay
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(6, 2, 300)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
