import type { DeviceState } from '@modelfleet/contracts';
import type { Database, RolloutState } from '@modelfleet/db';
import { targetsChanged } from './changes.js';
import { RolloutStateConflict } from './errors.js';
import { ACTIVE_STATES, RolloutTransitionRefused, type ReportOutcome, type RolloutEvent } from './machine.js';
import { transition, type TransitionResult } from './store.js';

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
    await run(db, rolloutId, { type: 'report', deviceId: deviceRowId, outcome: outcomeOf(state) }, now);
}

/** Evaluates every active rollout: in-progress timeouts, devices that joined the target, thresholds. */
export async function sweepRollouts(db: Database, now = new Date()): Promise<number> {
  const active = await db.prisma.rollout.findMany({ where: { state: { in: ACTIVE } }, select: { id: true } });
  for (const { id } of active) await run(db, id, { type: 'evaluate' }, now);
  return active.length;
}
