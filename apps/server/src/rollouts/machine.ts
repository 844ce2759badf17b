/**
 * The rollout state machine, pure: `step(snapshot, event, context)` answers the next snapshot and the effects
 * the store must write. No I/O, no clock of its own (the caller hands in `now` and the current target), so
 * every transition is a unit test and a fresh process continues from the stored rows (docs/rollouts.md).
 *
 *   running ──(wave succeeded, autoAdvance=false)──▶ awaiting_approval ──approve──▶ running (next wave)
 *   running ──(last wave succeeded)──▶ completed
 *   running | awaiting_approval ──(pause | error threshold)──▶ paused ──resume──▶ running
 *   running | awaiting_approval | paused ──abort──▶ aborted
 *   any but rolled_back ──rollback──▶ rolled_back
 */
import { createHash } from 'node:crypto';
import type { RolloutDeviceState, RolloutState, RolloutWaveState } from '@modelfleet/contracts';

export interface WavePlan {
  index: number;
  /** Cumulative share (0-100) of the target; null for an explicit list. */
  percent: number | null;
  /** Explicit device names (Device.deviceId) of a canary wave. */
  deviceIds: string[];
  state: RolloutWaveState;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface Member {
  /** Device row id. */
  deviceId: string;
  waveIndex: number;
  state: RolloutDeviceState;
  assignedAt: Date;
  /** Last progress: the in-progress timeout counts from here. */
  updatedAt: Date;
}

export interface RolloutSnapshot {
  id: string;
  releaseId: string;
  state: RolloutState;
  stateReason: string | null;
  currentWave: number;
  /** 0-1. */
  successThreshold: number;
  errorThresholdCount: number | null;
  /** 0-1. */
  errorThresholdFraction: number | null;
  errorsAcknowledged: number;
  inProgressTimeoutSeconds: number;
  autoAdvance: boolean;
  finishedAt: Date | null;
  waves: WavePlan[];
  members: Member[];
}

/** A device of the rollout's target now: its channel, every tag of the filter, not pinned, not revoked. */
export interface TargetDevice {
  /** Row id. */
  id: string;
  /** What the device calls itself. */
  deviceId: string;
  /** The release the device runs, to count a device already on the rollout's release as succeeded. */
  currentReleaseId: string | null;
}

export type ReportOutcome = 'in_progress' | 'succeeded' | 'failed';

export type RolloutEvent =
  | { type: 'evaluate' }
  | { type: 'report'; deviceId: string; outcome: ReportOutcome }
  | { type: 'pause'; reason?: string }
  | { type: 'resume' }
  | { type: 'approve' }
  | { type: 'abort'; reason?: string }
  | { type: 'rollback'; reason?: string };

export type RolloutEffect =
  | { type: 'rollout-updated' }
  | { type: 'wave-updated'; index: number }
  | { type: 'member-added'; member: Member }
  | { type: 'member-updated'; member: Member }
  /** Completed: the release becomes the channel's release for every device. */
  | { type: 'release-unstaged' }
  /** Rolled back: republish the previous release under a new, higher number. */
  | { type: 'publish-rollback' }
  /** Who gets which release changed: the poll caches must forget the channel. */
  | { type: 'targets-changed' };

export interface StepContext {
  now: Date;
  /** The rollout's target at this moment (needed for membership; may be empty for terminal states). */
  target: readonly TargetDevice[];
}

export interface StepResult {
  snapshot: RolloutSnapshot;
  effects: RolloutEffect[];
}

export class RolloutTransitionRefused extends Error {
  constructor(
    readonly from: RolloutState,
    readonly event: RolloutEvent['type'],
  ) {
    super(`a rollout in state ${from} cannot ${event}`);
  }
}

export const ACTIVE_STATES: readonly RolloutState[] = ['running', 'awaiting_approval', 'paused'];
export const TERMINAL_STATES: readonly RolloutState[] = ['completed', 'aborted', 'rolled_back'];
const ERROR_STATES: readonly RolloutDeviceState[] = ['failed', 'timed_out'];

/** Stable order of target devices: a device keeps its place whoever else joins or leaves the target. */
export function membershipRank(rolloutId: string, deviceRowId: string): string {
  return createHash('sha256').update(`${rolloutId}:${deviceRowId}`).digest('hex');
}

/**
 * The target in rank order, computed once per target list and rollout: a batch of reports steps the machine
 * once per report with the same target, and ranking inside the sort's comparison (two hashes per comparison,
 * every step) took over a third of the server's CPU under a 1,000-device rollout (bench:fleet profile).
 */
const rankedTargets = new WeakMap<readonly TargetDevice[], { rolloutId: string; ranked: readonly TargetDevice[] }>();

export function rankedTarget(rolloutId: string, target: readonly TargetDevice[]): readonly TargetDevice[] {
  const known = rankedTargets.get(target);
  if (known !== undefined && known.rolloutId === rolloutId) return known.ranked;
  const rank = new Map(target.map((device) => [device.id, membershipRank(rolloutId, device.id)]));
  const ranked = [...target].sort((a, b) => (rank.get(a.id)! < rank.get(b.id)! ? -1 : 1));
  rankedTargets.set(target, { rolloutId, ranked });
  return ranked;
}

export function countErrors(members: readonly Member[]): number {
  return members.filter((member) => ERROR_STATES.includes(member.state)).length;
}

/** Applies one event. Throws RolloutTransitionRefused for an action the current state does not allow. */
export function step(snapshot: RolloutSnapshot, event: RolloutEvent, context: StepContext): StepResult {
  const run = new Stepper(snapshot, context);
  run.apply(event);
  return { snapshot: run.snapshot, effects: run.effects };
}

class Stepper {
  readonly snapshot: RolloutSnapshot;
  readonly effects: RolloutEffect[] = [];
  private readonly now: Date;
  private readonly target: readonly TargetDevice[];

  constructor(input: RolloutSnapshot, context: StepContext) {
    this.snapshot = {
      ...input,
      waves: input.waves.map((wave) => ({ ...wave, deviceIds: [...wave.deviceIds] })),
      members: input.members.map((member) => ({ ...member })),
    };
    this.now = context.now;
    this.target = context.target;
  }

  apply(event: RolloutEvent): void {
    const s = this.snapshot;
    switch (event.type) {
      case 'evaluate':
        this.evaluate();
        return;
      case 'report':
        this.report(event.deviceId, event.outcome);
        this.evaluate();
        return;
      case 'pause':
        this.require(event.type, ['running', 'awaiting_approval']);
        this.setState('paused', event.reason ?? 'paused by an operator');
        return;
      case 'resume':
        this.require(event.type, ['paused']);
        // Errors seen so far were looked at; the error threshold applies to new ones.
        s.errorsAcknowledged = countErrors(s.members);
        this.setState('running', null);
        this.setWave(s.currentWave, 'running');
        this.evaluate();
        return;
      case 'approve':
        this.require(event.type, ['awaiting_approval']);
        this.setState('running', null);
        this.startWave(s.currentWave + 1);
        this.evaluate();
        return;
      case 'abort':
        this.require(event.type, ['running', 'awaiting_approval', 'paused']);
        this.finish('aborted', event.reason ?? 'aborted by an operator');
        this.setWave(s.currentWave, 'halted');
        return;
      case 'rollback':
        this.require(event.type, ['running', 'awaiting_approval', 'paused', 'completed', 'aborted']);
        this.finish('rolled_back', event.reason ?? 'rolled back by an operator');
        if (s.waves[s.currentWave]?.state === 'running') this.setWave(s.currentWave, 'halted');
        this.effects.push({ type: 'publish-rollback' });
        return;
    }
  }

  private require(event: RolloutEvent['type'], allowed: readonly RolloutState[]): void {
    if (!allowed.includes(this.snapshot.state)) throw new RolloutTransitionRefused(this.snapshot.state, event);
  }

  private setState(state: RolloutState, reason: string | null): void {
    this.snapshot.state = state;
    this.snapshot.stateReason = reason;
    this.rolloutUpdated();
  }

  private finish(state: RolloutState, reason: string | null): void {
    this.setState(state, reason);
    this.snapshot.finishedAt = this.now;
    this.effects.push({ type: 'targets-changed' });
  }

  private rolloutUpdated(): void {
    if (!this.effects.some((effect) => effect.type === 'rollout-updated'))
      this.effects.push({ type: 'rollout-updated' });
  }

  private setWave(index: number, state: RolloutWaveState): void {
    const wave = this.snapshot.waves[index];
    if (wave === undefined || wave.state === state) return;
    wave.state = state;
    if (state === 'running' && wave.startedAt === null) wave.startedAt = this.now;
    if (state === 'succeeded') wave.finishedAt = this.now;
    this.effects.push({ type: 'wave-updated', index });
  }

  private startWave(index: number): void {
    this.snapshot.currentWave = index;
    this.rolloutUpdated();
    this.setWave(index, 'running');
  }

  private updateMember(member: Member, state: RolloutDeviceState): void {
    member.state = state;
    member.updatedAt = this.now;
    this.effects.push({ type: 'member-updated', member: { ...member } });
  }

  private report(deviceId: string, outcome: ReportOutcome): void {
    const member = this.snapshot.members.find((candidate) => candidate.deviceId === deviceId);
    if (member === undefined) return;
    // in_progress also restarts the timeout clock of a device already in progress.
    if (outcome === 'in_progress' && member.state === 'succeeded') return;
    this.updateMember(member, outcome);
  }

  private evaluate(): void {
    const s = this.snapshot;
    if (!ACTIVE_STATES.includes(s.state)) return;
    this.timeOut();
    if (s.state !== 'running') {
      if (s.state === 'awaiting_approval') this.checkErrors();
      return;
    }
    // Advance as far as the members allow: an empty or already-successful wave passes at once.
    for (;;) {
      this.admit();
      if (this.checkErrors()) return;
      const wave = s.waves[s.currentWave]!;
      const members = s.members.filter((member) => member.waveIndex === wave.index);
      const succeeded = members.filter((member) => member.state === 'succeeded').length;
      const passed = members.length === 0 || succeeded >= Math.ceil(s.successThreshold * members.length - 1e-9);
      if (!passed) return;
      this.setWave(wave.index, 'succeeded');
      if (wave.index === s.waves.length - 1) {
        this.finish('completed', null);
        this.effects.push({ type: 'release-unstaged' });
        return;
      }
      if (!s.autoAdvance) {
        this.setState('awaiting_approval', `wave ${wave.index + 1} succeeded; waiting for approval`);
        return;
      }
      this.startWave(wave.index + 1);
    }
  }

  /** A pending or in-progress member of the target silent for longer than the timeout counts as timed out. */
  private timeOut(): void {
    const limitMs = this.snapshot.inProgressTimeoutSeconds * 1000;
    // A member that left the target (pinned, moved, revoked) is no longer offered the release: no clock.
    const inTarget = new Set(this.target.map((device) => device.id));
    for (const member of this.snapshot.members) {
      if (member.state !== 'pending' && member.state !== 'in_progress') continue;
      if (!inTarget.has(member.deviceId)) continue;
      if (this.now.getTime() - member.updatedAt.getTime() >= limitMs) this.updateMember(member, 'timed_out');
    }
  }

  /** Pauses at the error threshold; true when it did. */
  private checkErrors(): boolean {
    const s = this.snapshot;
    const errors = countErrors(s.members);
    const fresh = errors - s.errorsAcknowledged;
    if (fresh <= 0) return false;
    const byCount = s.errorThresholdCount !== null && fresh >= s.errorThresholdCount;
    const byShare =
      s.errorThresholdFraction !== null &&
      s.members.length > 0 &&
      fresh / s.members.length >= s.errorThresholdFraction - 1e-9;
    if (!byCount && !byShare) return false;
    const threshold = [
      ...(s.errorThresholdCount === null ? [] : [`${s.errorThresholdCount} device(s)`]),
      ...(s.errorThresholdFraction === null ? [] : [`${round(s.errorThresholdFraction * 100)} %`]),
    ].join(' or ');
    this.setState(
      'paused',
      `error threshold reached: ${errors} of ${s.members.length} device(s) failed or timed out ` +
        `(threshold ${threshold}) in wave ${s.currentWave + 1}`,
    );
    this.setWave(s.currentWave, 'halted');
    return true;
  }

  /**
   * Admits the target devices the waves so far reach: the explicit lists, and the first ceil(p × N) devices
   * in rank order for the largest cumulative percentage p so far. Members are never removed, so a device
   * that joins the target later takes its place by rank and (if within the share) joins the current wave.
   */
  private admit(): void {
    const s = this.snapshot;
    const isMember = new Set(s.members.map((member) => member.deviceId));
    const add = (device: TargetDevice, waveIndex: number) => {
      if (isMember.has(device.id)) return;
      isMember.add(device.id);
      const member: Member = {
        deviceId: device.id,
        waveIndex,
        state: device.currentReleaseId === s.releaseId ? 'succeeded' : 'pending',
        assignedAt: this.now,
        updatedAt: this.now,
      };
      s.members.push(member);
      this.effects.push({ type: 'member-added', member: { ...member } });
      this.effects.push({ type: 'targets-changed' });
    };
    const waves = s.waves.slice(0, s.currentWave + 1);
    const byName = new Map(this.target.map((device) => [device.deviceId, device]));
    for (const wave of waves)
      for (const name of wave.deviceIds) {
        const device = byName.get(name);
        if (device !== undefined) add(device, s.currentWave === wave.index ? wave.index : s.currentWave);
      }
    const percent = Math.max(0, ...waves.map((wave) => wave.percent ?? 0));
    if (percent === 0) return;
    const quota = Math.ceil((percent / 100) * this.target.length - 1e-9);
    for (const device of rankedTarget(s.id, this.target).slice(0, quota)) add(device, s.currentWave);
  }
}

const round = (value: number) => Math.round(value * 100) / 100;
