/**
 * When to talk to the server next. Polls follow the server's `pollAfterSeconds` plus up to 20 % jitter, so a
 * fleet that rebooted together (a power cut in a sorting hall) spreads out instead of polling in lock-step.
 * Errors back off exponentially with "full jitter" (a uniform delay in [0, min(cap, base * 2^attempt)]),
 * the variant AWS measured to finish contending clients with the fewest calls
 * (aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter); a floor of base/2 keeps one failing
 * device from retrying at once, in a tight loop.
 */
export type Random = () => number;

export const POLL_JITTER_FRACTION = 0.2;

/** Milliseconds until the next poll after a successful one. */
export function pollDelayMs(pollAfterSeconds: number, minPollSeconds: number, random: Random = Math.random): number {
  const base = Math.max(pollAfterSeconds, minPollSeconds) * 1000;
  return Math.round(base * (1 + POLL_JITTER_FRACTION * random()));
}

/** Milliseconds to wait after the `failures`-th consecutive failure (1 = first failure). */
export function backoffDelayMs(
  failures: number,
  baseSeconds: number,
  capSeconds: number,
  random: Random = Math.random,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(capSeconds * 1000, baseSeconds * 1000 * 2 ** exponent);
  const floor = Math.min(ceiling, (baseSeconds * 1000) / 2);
  return Math.round(floor + (ceiling - floor) * random());
}
