import type { Database, Prisma } from '@modelfleet/db';
import { RolloutNotFound } from './errors.js';
import {
  ACTIVE_STATES,
  RolloutTransitionRefused,
  step,
  type Member,
  type RolloutEffect,
  type RolloutEvent,
  type RolloutSnapshot,
  type TargetDevice,
} from './machine.js';

type Tx = Prisma.TransactionClient;

export interface TransitionResult {
  snapshot: RolloutSnapshot;
  effects: RolloutEffect[];
  channelId: string;
}

/** Generous: PGlite serialises everything on one connection, so a transaction may wait behind others. */
const TX_OPTIONS = { maxWait: 30_000, timeout: 60_000 };

/**
 * The rollout's target now: devices of its channel carrying every tag of the filter, not revoked and not
 * pinned (a pin wins over any rollout, so a pinned device is not counted in the waves).
 */
export async function loadTarget(tx: Tx, rollout: { channelId: string; tagFilter: string[] }): Promise<TargetDevice[]> {
  return tx.device.findMany({
    where: {
      channelId: rollout.channelId,
      revokedAt: null,
      pinnedReleaseId: null,
      ...(rollout.tagFilter.length === 0 ? {} : { tags: { hasEvery: rollout.tagFilter } }),
    },
    select: { id: true, deviceId: true, currentReleaseId: true },
  });
}

async function loadSnapshot(tx: Tx, id: string) {
  const row = await tx.rollout.findUnique({
    where: { id },
    include: { waves: { orderBy: { index: 'asc' } }, devices: true },
  });
  if (row === null) throw new RolloutNotFound(id);
  const snapshot: RolloutSnapshot = {
    id: row.id,
    releaseId: row.releaseId,
    state: row.state,
    stateReason: row.stateReason,
    currentWave: row.currentWave,
    successThreshold: row.successThreshold,
    errorThresholdCount: row.errorThresholdCount,
    errorThresholdFraction: row.errorThresholdFraction,
    errorsAcknowledged: row.errorsAcknowledged,
    inProgressTimeoutSeconds: row.inProgressTimeoutSeconds,
    autoAdvance: row.autoAdvance,
    finishedAt: row.finishedAt,
    waves: row.waves.map((wave) => ({
      index: wave.index,
      percent: wave.percent,
      deviceIds: wave.deviceIds,
      state: wave.state,
      startedAt: wave.startedAt,
      finishedAt: wave.finishedAt,
    })),
    members: row.devices.map((member) => ({
      deviceId: member.deviceId,
      waveIndex: member.waveIndex,
      state: member.state,
      assignedAt: member.assignedAt,
      updatedAt: member.updatedAt,
    })),
  };
  return { row, snapshot };
}

async function persist(tx: Tx, result: { snapshot: RolloutSnapshot; effects: RolloutEffect[] }): Promise<void> {
  const { snapshot, effects } = result;
  if (effects.length === 0) return;
  const added: Member[] = [];
  const updated = new Map<string, Member>();
  const waves = new Set<number>();
  for (const effect of effects) {
    if (effect.type === 'member-added') added.push(effect.member);
    else if (effect.type === 'member-updated') updated.set(effect.member.deviceId, effect.member);
    else if (effect.type === 'wave-updated') waves.add(effect.index);
  }
  if (added.length > 0)
    await tx.rolloutDevice.createMany({
      data: added.map((member) => ({ rolloutId: snapshot.id, ...(updated.get(member.deviceId) ?? member) })),
    });
  // Updates of one state at one time go together (a sweep may time out many devices at once).
  const groups = new Map<string, Member[]>();
  for (const member of updated.values()) {
    if (added.some((fresh) => fresh.deviceId === member.deviceId)) continue;
    const key = `${member.state}|${member.updatedAt.getTime()}`;
    groups.set(key, [...(groups.get(key) ?? []), member]);
  }
  for (const members of groups.values())
    await tx.rolloutDevice.updateMany({
      where: { rolloutId: snapshot.id, deviceId: { in: members.map((member) => member.deviceId) } },
      data: { state: members[0]!.state, updatedAt: members[0]!.updatedAt },
    });
  for (const index of waves) {
    const wave = snapshot.waves[index]!;
    await tx.rolloutWave.update({
      where: { rolloutId_index: { rolloutId: snapshot.id, index } },
      data: { state: wave.state, startedAt: wave.startedAt, finishedAt: wave.finishedAt },
    });
  }
  await tx.rollout.update({
    where: { id: snapshot.id },
    data: {
      state: snapshot.state,
      stateReason: snapshot.stateReason,
      currentWave: snapshot.currentWave,
      errorsAcknowledged: snapshot.errorsAcknowledged,
      finishedAt: snapshot.finishedAt,
    },
  });
  if (effects.some((effect) => effect.type === 'release-unstaged'))
    await tx.release.update({ where: { id: snapshot.releaseId }, data: { staged: false } });
}

/**
 * Loads a rollout under a row lock (`SELECT … FOR UPDATE`: several servers may evaluate the same rollout; the
 * second waits and then sees what the first wrote), applies one event, writes the effects, commits. Everything
 * the machine needs is in the rows, so a process that starts later continues where another stopped.
 * `beforeCommit` writes more in the same transaction (the rollback's release).
 */
export async function transition(
  db: Database,
  id: string,
  event: RolloutEvent,
  now: Date,
  beforeCommit?: (tx: Tx, result: TransitionResult) => Promise<void>,
): Promise<TransitionResult> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM rollouts WHERE id = ${id}::uuid FOR UPDATE`;
    const { row, snapshot } = await loadSnapshot(tx, id);
    const target = ACTIVE_STATES.includes(row.state) ? await loadTarget(tx, row) : [];
    const result = { ...step(snapshot, event, { now, target }), channelId: row.channelId };
    await persist(tx, result);
    if (beforeCommit !== undefined) await beforeCommit(tx, result);
    return result;
  }, TX_OPTIONS);
}

/** What became of one event of a batch: applied, or refused by the state machine (nothing written for it). */
export type BatchOutcome = { applied: true } | { applied: false; error: RolloutTransitionRefused };

/**
 * Applies several events to one rollout in one transaction, in order: one row lock, one load, one write,
 * whatever the number of events. Device reports arrive in bursts (a wave of devices installing at once); one
 * transaction per report would queue them all on the rollout's row lock, each holding a pooled connection
 * while it waits, and starve every other request of connections (bench:fleet with 1,000 agents). An event the
 * machine refuses is reported as such and does not stop the others.
 */
export async function transitionBatch(
  db: Database,
  id: string,
  events: readonly RolloutEvent[],
  now: Date,
): Promise<{ result: TransitionResult; outcomes: BatchOutcome[] }> {
  return db.prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM rollouts WHERE id = ${id}::uuid FOR UPDATE`;
    const { row, snapshot } = await loadSnapshot(tx, id);
    const target = ACTIVE_STATES.includes(row.state) ? await loadTarget(tx, row) : [];
    let current = snapshot;
    const effects: RolloutEffect[] = [];
    const outcomes: BatchOutcome[] = [];
    for (const event of events) {
      try {
        const stepped = step(current, event, { now, target });
        current = stepped.snapshot;
        effects.push(...stepped.effects);
        outcomes.push({ applied: true });
      } catch (error) {
        if (!(error instanceof RolloutTransitionRefused)) throw error;
        outcomes.push({ applied: false, error });
      }
    }
    const result = { snapshot: current, effects, channelId: row.channelId };
    await persist(tx, result);
    return { result, outcomes };
  }, TX_OPTIONS);
}
