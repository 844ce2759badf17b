import { ModelFleetError } from '@modelfleet/errors';
import { Type } from 'typebox';
import { createJobCatalog } from '../catalog.js';
import { defineJob } from '../job-definition.js';
import type { JobContext } from '../job-context.js';
import { PermanentJobError } from '../permanent-failure.js';

/** What the contract tests' host provides: a record of every attempt, to check retries and dedup. */
export interface ContractServices {
  attempts: Map<string, number[]>;
  /** What `test.hold` waits for; each host decides (forever until aborted, or not at all). */
  hold?: (signal: AbortSignal) => Promise<void>;
}

type Context = JobContext<ContractServices>;

function recordAttempt(context: Context): void {
  const times = context.services.attempts.get(context.jobId) ?? [];
  times.push(Date.now());
  context.services.attempts.set(context.jobId, times);
}

const echo = defineJob({
  name: 'test.echo',
  payload: Type.Object({ text: Type.String(), steps: Type.Integer({ minimum: 1, maximum: 10 }) }),
  attempts: 1,
  backoff: { type: 'fixed', delayMs: 0 },
  async process(payload, context: Context) {
    recordAttempt(context);
    for (let step = 1; step <= payload.steps; step++) await context.progress('echoing', (step / payload.steps) * 100);
    return { echoed: payload.text.toUpperCase(), attempt: context.attempt };
  },
});

/** Fails with a transient error until attempt `failures + 1`. */
const flaky = defineJob({
  name: 'test.flaky',
  payload: Type.Object({ failures: Type.Integer({ minimum: 0 }) }),
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 150 },
  async process(payload, context: Context) {
    recordAttempt(context);
    if (context.attempt <= payload.failures) {
      throw new ModelFleetError('MF_ERR_TEST_TRANSIENT', 503, `attempt ${String(context.attempt)} failed`);
    }
    return { succeededOnAttempt: context.attempt };
  },
});

/** Fails in a way no retry can fix: explicitly, or with a ModelFleet 4xx error. */
const refused = defineJob({
  name: 'test.refused',
  payload: Type.Object({ how: Type.Union([Type.Literal('permanent'), Type.Literal('4xx')]) }),
  attempts: 3,
  backoff: { type: 'fixed', delayMs: 50 },
  async process(payload, context: Context) {
    recordAttempt(context);
    if (payload.how === 'permanent') throw new PermanentJobError('MF_ERR_TEST_UNUSABLE', 'input unusable');
    throw new ModelFleetError('MF_ERR_TEST_BAD_INPUT', 400, 'input rejected');
  },
});

/** CPU work on the pool, stoppable through the job's signal. */
const spin = defineJob({
  name: 'test.spin',
  payload: Type.Object({ ms: Type.Integer({ minimum: 0 }) }),
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 10 },
  async process(payload, context: Context) {
    recordAttempt(context);
    const turns = await context.cpu.run<number>(
      new URL('../cpu/cpu-pool.fixture.ts', import.meta.url),
      'spin',
      payload.ms,
      {
        signal: context.signal,
      },
    );
    return { spun: turns > 0 };
  },
});

/** Waits for the host's `hold`: a job that is in flight for as long as a test needs. */
const hold = defineJob({
  name: 'test.hold',
  payload: Type.Object({}),
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 10 },
  async process(_payload, context: Context) {
    recordAttempt(context);
    await context.services.hold?.(context.signal);
    return { held: true };
  },
});

export function createContractCatalog() {
  return createJobCatalog([echo, flaky, refused, spin, hold]);
}
