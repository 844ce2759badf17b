import type { DeviceState } from '@modelfleet/contracts';
import type { Database, RolloutState } from '@modelfleet/db';
import { targetsChanged } from './changes.js';
import { RolloutStateConflict } from './errors.js';
import { ACTIVE_STATES, RolloutTransitionRefused, type ReportOutcome, type RolloutEvent } from './machine.js';
import { transition, transitionBatch, type TransitionResult } from './store.js';

const ACTIVE = [...ACTIVE_STATES] as RolloutState[];

export function notify(result: TransitionResult): void {
  if (result.effects.some((effect) => effect.type === 'targets-changed')) targetsChanged(result.channelId);
}

export async function run(db: Database, id: string, event: RolloutEvent, now: Date): Promise<TransitionResult> {
  try {
    const result = await transition(db, id, event, now);
    notify(result);
    return result;
  } catch (error) {
    if (error instanceof RolloutTransitionRefused) throw new RolloutStateConflict(error.message);
    throw error;
  }
}

const outcomeOf = (state: DeviceState): ReportOutcome =>
  state === 'installed' ? 'succeeded' : state === 'failed' || state === 'rolled-back' ? 'failed' : 'in_progress';

/**
 * A device reported on a release: moves its membership in the active rollouts of that release and evaluates
 * them (a wave may advance, or the error threshold pause the rollout). Idempotent, so a retried report is safe.
 */
export async function recordRolloutProgress(
  db: Database,
  deviceRowId: string,
  releaseId: string,
  state: DeviceState,
  now = new Date(),
): Promise<void> {
  const memberships = await db.prisma.rolloutDevice.findMany({
    where: { deviceId: deviceRowId, rollout: { releaseId, state: { in: ACTIVE } } },
    select: { rolloutId: true },
  });
  for (const { rolloutId } of memberships)
    await reportBatcher(db).add(rolloutId, { type: 'report', deviceId: deviceRowId, outcome: outcomeOf(state) }, now);
}

interface Pending {
  event: RolloutEvent;
  now: Date;
  settle: { resolve(): void; reject(error: unknown): void };
}

/**
 * Per process and rollout, reports are applied in batches: while one transaction runs, the reports that
 * arrive wait and then go together in the next one (store.transitionBatch). A report's request still
 * returns only after its event was committed, so what a device (or a test) sees after a report is the same
 * as with one transaction per report; only the number of transactions, and of connections held waiting on
 * the rollout's row lock, shrinks.
 */
class ReportBatcher {
  private readonly queues = new Map<string, Pending[]>();
  private readonly draining = new Set<string>();

  constructor(private readonly db: Database) {}

  add(rolloutId: string, event: RolloutEvent, now: Date): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const queue = this.queues.get(rolloutId) ?? [];
      queue.push({ event, now, settle: { resolve, reject } });
      this.queues.set(rolloutId, queue);
      if (!this.draining.has(rolloutId)) void this.drain(rolloutId);
    });
  }

  private async drain(rolloutId: string): Promise<void> {
    this.draining.add(rolloutId);
    try {
      for (;;) {
        const batch = this.queues.get(rolloutId) ?? [];
        this.queues.delete(rolloutId);
        if (batch.length === 0) return;
        try {
          // The batch's clock is its latest report's: timeouts are judged at the newest time any report saw.
          const now = new Date(Math.max(...batch.map((pending) => pending.now.getTime())));
          const { result, outcomes } = await transitionBatch(
            this.db,
            rolloutId,
            batch.map((pending) => pending.event),
            now,
          );
          notify(result);
          batch.forEach((pending, index) => {
            const outcome = outcomes[index]!;
            if (outcome.applied) pending.settle.resolve();
            else pending.settle.reject(new RolloutStateConflict(outcome.error.message));
          });
        } catch (error) {
          for (const pending of batch) pending.settle.reject(error);
        }
      }
    } finally {
      this.draining.delete(rolloutId);
    }
  }
}

const batchers = new WeakMap<Database, ReportBatcher>();

function reportBatcher(db: Database): ReportBatcher {
  let batcher = batchers.get(db);
  if (batcher === undefined) {
    batcher = new ReportBatcher(db);
    batchers.set(db, batcher);
  }
  return batcher;
}

/** Evaluates every active rollout: in-progress timeouts, devices that joined the target, thresholds. */
export async function sweepRollouts(db: Database, now = new Date()): Promise<number> {
  const active = await db.prisma.rollout.findMany({ where: { state: { in: ACTIVE } }, select: { id: true } });
  for (const { id } of active) await run(db, id, { type: 'evaluate' }, now);
  return active.length;
}
