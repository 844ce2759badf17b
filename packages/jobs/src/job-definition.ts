import type { Static, TSchema } from 'typebox';
import type { JobContext } from './job-context.js';

/** Delay before a retry. Same formula as BullMQ's built-in strategies, so both drivers agree. */
export interface Backoff {
  type: 'fixed' | 'exponential';
  /** `fixed`: every retry waits this long; `exponential`: delayMs * 2^(attempt - 1). */
  delayMs: number;
}

export interface JobDefinition<
  Name extends string = string,
  Payload extends TSchema = TSchema,
  Result = unknown,
  Services = unknown,
> {
  name: Name;
  /** TypeBox schema; payloads are validated when enqueued and again before processing. */
  payload: Payload;
  /** Total attempts, the first included (1 = never retried). */
  attempts: number;
  backoff: Backoff;
  /**
   * The work. Must be idempotent (a retried attempt may follow a partial one) and return JSON
   * (results are stored as JSON by BullMQ; the in-process driver round-trips them the same way).
   */
  process(payload: Static<Payload>, context: JobContext<Services>): Promise<Result>;
}

/** Any job definition, whatever its payload and result (for catalogs and drivers). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- `process` is contravariant in its payload; `any` is the only type every definition fits
export type AnyJobDefinition = JobDefinition<string, any, any, any>;

/**
 * Declares a job. `Services` is inferred from the annotation of `process`'s context parameter
 * (`ctx: JobContext<Services>`), so the payload stays inferred from the schema.
 */
export function defineJob<Name extends string, Payload extends TSchema, Result, Services = unknown>(
  definition: JobDefinition<Name, Payload, Result, Services>,
): JobDefinition<Name, Payload, Result, Services> {
  if (!Number.isInteger(definition.attempts) || definition.attempts < 1) {
    throw new RangeError(`job ${definition.name}: attempts must be an integer >= 1`);
  }
  if (!(definition.backoff.delayMs >= 0)) throw new RangeError(`job ${definition.name}: backoff.delayMs must be >= 0`);
  return definition;
}

/** Delay before attempt `nextAttempt` (2 = the first retry). */
export function backoffDelay(backoff: Backoff, nextAttempt: number): number {
  const retry = nextAttempt - 1;
  return backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** (retry - 1);
}
