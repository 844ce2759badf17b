import { describe, expect, it } from 'vitest';
import {
  backoffDelayMs,
  delayAfterFailureMs,
  POLL_JITTER_FRACTION,
  pollDelayMs,
  retryAfterSeconds,
} from './backoff.js';

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

  it("reads the server's Retry-After: seconds or an HTTP date, bounded, undefined when absent or unreadable", () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(retryAfterSeconds('1', now)).toBe(1);
    expect(retryAfterSeconds(' 120 ', now)).toBe(120);
    expect(retryAfterSeconds('Mon, 30 Nov 2026 12:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterSeconds('99999999', now)).toBe(24 * 3600);
    expect(retryAfterSeconds(null, now)).toBeUndefined();
    expect(retryAfterSeconds('', now)).toBeUndefined();
    expect(retryAfterSeconds('soon', now)).toBeUndefined();
    expect(retryAfterSeconds('-5', now)).toBeUndefined();
  });

  it('after a failure waits at least what the server asked (plus jitter), within the cap', () => {
    // First failure: backoff would be 1-2 s; the server asked for 5 s.
    expect(delayAfterFailureMs(1, 2, 300, 5, () => 0)).toBe(5_000);
    expect(delayAfterFailureMs(1, 2, 300, 5, () => 1)).toBe(6_000);
    // A backoff already longer than the wish wins.
    expect(delayAfterFailureMs(10, 2, 300, 1, () => 1)).toBe(300_000);
    // The cap bounds the wish too.
    expect(delayAfterFailureMs(1, 2, 3, 60, () => 0)).toBe(3_000);
    // Without a wish: the plain backoff.
    expect(delayAfterFailureMs(3, 2, 300, undefined, () => 0.5)).toBe(backoffDelayMs(3, 2, 300, () => 0.5));
  });
});
