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

/**
 * The server's Retry-After (seconds, or an HTTP date), in seconds from `now`; undefined when absent or
 * unreadable. Bounded to a day, so a wrong header cannot park a device for ever.
 */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const value = header.trim();
  // delta-seconds, or an HTTP date (it names a weekday and a month; Date.parse alone would take '-5' for a year).
  const seconds = /^\d+$/.test(value)
    ? Number(value)
    : /[A-Za-z]{3}/.test(value)
      ? (Date.parse(value) - now) / 1000
      : Number.NaN;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(Math.max(seconds, 0), 24 * 3600);
}

/**
 * The delay after a failed round: the backoff, but never shorter than what the server asked for with
 * Retry-After (a busy server spreads its devices out instead of taking their retries early). The cap
 * still bounds it.
 */
export function delayAfterFailureMs(
  failures: number,
  baseSeconds: number,
  capSeconds: number,
  serverRetryAfterSeconds: number | undefined,
  random: Random = Math.random,
): number {
  const backoff = backoffDelayMs(failures, baseSeconds, capSeconds, random);
  if (serverRetryAfterSeconds === undefined) return backoff;
  // Up to 20 % jitter on top of the server's wish, so the devices it refused together do not return together.
  const asked = serverRetryAfterSeconds * 1000 * (1 + POLL_JITTER_FRACTION * random());
  return Math.round(Math.min(Math.max(backoff, asked), capSeconds * 1000));
}
