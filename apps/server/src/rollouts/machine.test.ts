import { describe, expect, it } from 'vitest';
import {
  membershipRank,
  rankedTarget,
  RolloutTransitionRefused,
  step,
  type RolloutEvent,
  type RolloutSnapshot,
  type StepResult,
  type TargetDevice,
  type WavePlan,
} from './machine.js';

const T0 = new Date('2026-11-29T12:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const fleet = (count: number, prefix = 'dev'): TargetDevice[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    deviceId: `${prefix}-${i}`,
    currentReleaseId: null,
  }));

function wave(index: number, percent: number | null, deviceIds: string[] = []): WavePlan {
  return {
    index,
    percent,
    deviceIds,
    state: index === 0 ? 'running' : 'pending',
    startedAt: index === 0 ? T0 : null,
    finishedAt: null,
  };
}

function rollout(overrides: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  return {
    id: 'r-1',
    releaseId: 'release-2',
    state: 'running',
    stateReason: null,
    currentWave: 0,
    successThreshold: 1,
    errorThresholdCount: 1,
    errorThresholdFraction: null,
    errorsAcknowledged: 0,
    inProgressTimeoutSeconds: 600,
    autoAdvance: true,
    finishedAt: null,
    waves: [wave(0, 25), wave(1, 50), wave(2, 100)],
    members: [],
    ...overrides,
  };
}

/** Applies events in order against one target, as the store would (each step starts from the last snapshot). */
function play(start: RolloutSnapshot, target: TargetDevice[], events: [RolloutEvent, number][]): StepResult {
  let result: StepResult = { snapshot: start, effects: [] };
  for (const [event, seconds] of events) result = step(result.snapshot, event, { now: at(seconds), target });
  return result;
}

const membersOf = (snapshot: RolloutSnapshot, waveIndex: number) =>
  snapshot.members.filter((member) => member.waveIndex === waveIndex).map((member) => member.deviceId);
const install = (snapshot: RolloutSnapshot, waveIndex: number): [RolloutEvent, number][] =>
  membersOf(snapshot, waveIndex).map((deviceId) => [{ type: 'report', deviceId, outcome: 'succeeded' }, 10]);

describe('rollout state machine', () => {
  it('admits ceil(percent × target) devices to the first wave, in a stable hash order', () => {
    const target = fleet(8);
    const { snapshot, effects } = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    expect(membersOf(snapshot, 0)).toHaveLength(2);
    expect(effects.filter((effect) => effect.type === 'member-added')).toHaveLength(2);
    expect(effects.some((effect) => effect.type === 'targets-changed')).toBe(true);
    // The same devices whatever the order the target arrives in.
    const again = step(rollout(), { type: 'evaluate' }, { now: T0, target: [...target].reverse() });
    expect(membersOf(again.snapshot, 0).sort()).toEqual(membersOf(snapshot, 0).sort());
    // Another rollout orders the fleet differently (not always the same first devices).
    const others = [2, 3, 4, 5, 6].map((n) =>
      membersOf(step(rollout({ id: `r-${n}` }), { type: 'evaluate' }, { now: T0, target }).snapshot, 0).sort(),
    );
    expect(new Set(others.map((ids) => ids.join())).size).toBeGreaterThan(1);
  });

  it('advances wave by wave on success and completes, asking to publish the release to the channel', () => {
    const target = fleet(8);
    let result = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    result = play(result.snapshot, target, install(result.snapshot, 0).slice(0, 1));
    expect(result.snapshot.currentWave).toBe(0); // 1 of 2: the 100 % success threshold is not met
    result = play(result.snapshot, target, install(result.snapshot, 0));
    expect(result.snapshot.currentWave).toBe(1);
    expect(result.snapshot.waves[0]!.state).toBe('succeeded');
    expect(result.snapshot.waves[1]!.state).toBe('running');
    expect(membersOf(result.snapshot, 1)).toHaveLength(2); // cumulative 50 % of 8 = 4, two of them new
    result = play(result.snapshot, target, install(result.snapshot, 1));
    expect(result.snapshot.currentWave).toBe(2);
    expect(membersOf(result.snapshot, 2)).toHaveLength(4);
    result = play(result.snapshot, target, install(result.snapshot, 2));
    expect(result.snapshot.state).toBe('completed');
    expect(result.snapshot.finishedAt).toEqual(at(10));
    expect(result.effects.map((effect) => effect.type)).toContain('release-unstaged');
    // Completed is terminal for evaluation.
    expect(step(result.snapshot, { type: 'evaluate' }, { now: at(20), target }).effects).toEqual([]);
  });

  it('ranks a target once per list and rollout: the order of membershipRank, reused by every step of a batch', () => {
    const target = fleet(50);
    const ranked = rankedTarget('r-1', target);
    const expected = [...target].sort((a, b) => membershipRank('r-1', a.id).localeCompare(membershipRank('r-1', b.id)));
    expect(ranked.map((device) => device.id)).toEqual(expected.map((device) => device.id));
    expect(rankedTarget('r-1', target)).toBe(ranked);
    // Another rollout, or another list (a new evaluation loads the target again), is ranked afresh.
    expect(rankedTarget('r-2', target).map((device) => device.id)).not.toEqual(ranked.map((device) => device.id));
    expect(rankedTarget('r-1', [...target])).not.toBe(ranked);
    expect(rankedTarget('r-1', [...target]).map((device) => device.id)).toEqual(ranked.map((device) => device.id));
  });

  it('a success threshold below 100 % advances before every device is done', () => {
    const target = fleet(10);
    let result = step(
      rollout({ successThreshold: 0.5, waves: [wave(0, 40), wave(1, 100)] }),
      { type: 'evaluate' },
      { now: T0, target },
    );
    const [first, second] = membersOf(result.snapshot, 0);
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: first!, outcome: 'succeeded' }, 5]]);
    expect(result.snapshot.currentWave).toBe(0);
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: second!, outcome: 'succeeded' }, 6]]);
    expect(result.snapshot.currentWave).toBe(1);
  });

  it('waits for approval between waves when autoAdvance is off, and approve starts the next wave', () => {
    const target = fleet(4);
    let result = step(rollout({ autoAdvance: false }), { type: 'evaluate' }, { now: T0, target });
    result = play(result.snapshot, target, install(result.snapshot, 0));
    expect(result.snapshot.state).toBe('awaiting_approval');
    expect(result.snapshot.stateReason).toMatch(/wave 1 succeeded/);
    expect(result.snapshot.currentWave).toBe(0);
    expect(() => step(result.snapshot, { type: 'resume' }, { now: at(20), target })).toThrow(RolloutTransitionRefused);
    result = step(result.snapshot, { type: 'approve' }, { now: at(20), target });
    expect(result.snapshot).toMatchObject({ state: 'running', currentWave: 1, stateReason: null });
    expect(result.snapshot.waves[1]).toMatchObject({ state: 'running', startedAt: at(20) });
    expect(membersOf(result.snapshot, 1)).toHaveLength(1);
  });

  it('pauses itself at the error-count threshold with a reason, and halts the wave', () => {
    const target = fleet(8);
    let result = step(rollout({ errorThresholdCount: 2 }), { type: 'evaluate' }, { now: T0, target });
    const [a, b] = membersOf(result.snapshot, 0);
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: a!, outcome: 'failed' }, 5]]);
    expect(result.snapshot.state).toBe('running');
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: b!, outcome: 'failed' }, 6]]);
    expect(result.snapshot.state).toBe('paused');
    expect(result.snapshot.stateReason).toMatch(/error threshold reached: 2 of 2 device\(s\) failed/);
    expect(result.snapshot.waves[0]!.state).toBe('halted');
    // Paused: no wave advances, no new members.
    const later = step(result.snapshot, { type: 'evaluate' }, { now: at(7), target: fleet(20) });
    expect(later.snapshot.members).toHaveLength(2);
  });

  it('pauses at the error-percentage threshold of the waves so far', () => {
    const target = fleet(10);
    let result = step(
      rollout({ errorThresholdCount: null, errorThresholdFraction: 0.3, waves: [wave(0, 50), wave(1, 100)] }),
      { type: 'evaluate' },
      { now: T0, target },
    );
    const members = membersOf(result.snapshot, 0); // 5
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: members[0]!, outcome: 'failed' }, 5]]);
    expect(result.snapshot.state).toBe('running'); // 1 of 5 = 20 %
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: members[1]!, outcome: 'failed' }, 6]]);
    expect(result.snapshot.state).toBe('paused'); // 2 of 5 = 40 %
    expect(result.snapshot.stateReason).toMatch(/30 %/);
  });

  it('resume acknowledges the errors so far: the threshold counts only new ones', () => {
    const target = fleet(4);
    let result = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    const [a] = membersOf(result.snapshot, 0);
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: a!, outcome: 'failed' }, 5]]);
    expect(result.snapshot.state).toBe('paused');
    result = step(result.snapshot, { type: 'resume' }, { now: at(6), target });
    expect(result.snapshot).toMatchObject({ state: 'running', errorsAcknowledged: 1, stateReason: null });
    expect(result.snapshot.waves[0]!.state).toBe('running');
    // The failed device installs on a retry: the wave passes.
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: a!, outcome: 'succeeded' }, 7]]);
    expect(result.snapshot.currentWave).toBe(1);
  });

  it('times out a silent device after inProgressTimeoutSeconds; a progress report restarts its clock', () => {
    const target = fleet(4);
    let result = step(rollout({ errorThresholdCount: 1 }), { type: 'evaluate' }, { now: T0, target });
    const [a] = membersOf(result.snapshot, 0);
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: a!, outcome: 'in_progress' }, 500]]);
    expect(result.snapshot.members[0]!.state).toBe('in_progress');
    result = step(result.snapshot, { type: 'evaluate' }, { now: at(1000), target });
    expect(result.snapshot.state).toBe('running'); // 500 s since its report < 600 s
    result = step(result.snapshot, { type: 'evaluate' }, { now: at(1100), target });
    expect(result.snapshot.members[0]!.state).toBe('timed_out');
    expect(result.snapshot.state).toBe('paused');
    expect(result.snapshot.stateReason).toMatch(/failed or timed out/);
  });

  it('does not time out a member that left the target (e.g. pinned)', () => {
    const target = fleet(4);
    const result = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    const [a] = membersOf(result.snapshot, 0);
    const later = step(
      result.snapshot,
      { type: 'evaluate' },
      {
        now: at(5000),
        target: target.filter((device) => device.id !== a),
      },
    );
    expect(later.snapshot.members[0]!.state).toBe('pending');
  });

  it('includes devices that join the target while the rollout runs (dynamic membership)', () => {
    let target = fleet(4);
    let result = step(rollout({ waves: [wave(0, 50), wave(1, 100)] }), { type: 'evaluate' }, { now: T0, target });
    expect(membersOf(result.snapshot, 0)).toHaveLength(2);
    target = [...target, ...fleet(4, 'late')];
    result = step(result.snapshot, { type: 'evaluate' }, { now: at(5), target });
    // Half of 8 now: members are never dropped, so the wave grows to at least 4.
    expect(membersOf(result.snapshot, 0).length).toBeGreaterThanOrEqual(4);
    result = play(result.snapshot, target, install(result.snapshot, 0));
    expect(result.snapshot.currentWave).toBe(1);
    expect(result.snapshot.members).toHaveLength(8);
    target = [...target, ...fleet(1, 'latest')];
    result = step(result.snapshot, { type: 'evaluate' }, { now: at(30), target });
    expect(membersOf(result.snapshot, 1)).toContain('latest-0');
  });

  it('admits an explicit canary list first, and counts a device already on the release as succeeded', () => {
    const target = fleet(6).map((device, i) => (i === 5 ? { ...device, currentReleaseId: 'release-2' } : device));
    let result = step(
      rollout({ waves: [wave(0, null, ['dev-4', 'dev-5', 'absent']), wave(1, 100)] }),
      { type: 'evaluate' },
      { now: T0, target },
    );
    expect(membersOf(result.snapshot, 0).sort()).toEqual(['dev-4', 'dev-5']);
    expect(result.snapshot.members.find((member) => member.deviceId === 'dev-5')!.state).toBe('succeeded');
    result = play(result.snapshot, target, [[{ type: 'report', deviceId: 'dev-4', outcome: 'succeeded' }, 5]]);
    expect(result.snapshot.currentWave).toBe(1);
    expect(membersOf(result.snapshot, 1)).toHaveLength(4);
  });

  it('an empty target completes at once', () => {
    const result = step(rollout(), { type: 'evaluate' }, { now: T0, target: [] });
    expect(result.snapshot.state).toBe('completed');
  });

  it('pause and resume by an operator; pause only from running or awaiting approval', () => {
    const target = fleet(4);
    let result = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    result = step(result.snapshot, { type: 'pause', reason: 'night shift' }, { now: at(1), target });
    expect(result.snapshot).toMatchObject({ state: 'paused', stateReason: 'night shift' });
    expect(() => step(result.snapshot, { type: 'pause' }, { now: at(2), target })).toThrow(RolloutTransitionRefused);
    expect(() => step(result.snapshot, { type: 'approve' }, { now: at(2), target })).toThrow(RolloutTransitionRefused);
    // Reports still count while paused, but the wave does not advance.
    result = play(result.snapshot, target, install(result.snapshot, 0));
    expect(result.snapshot.currentWave).toBe(0);
    result = step(result.snapshot, { type: 'resume' }, { now: at(20), target });
    expect(result.snapshot).toMatchObject({ state: 'running', currentWave: 1 });
  });

  it('abort is final; rollback works from any state but rolled_back and asks for the republish', () => {
    const target = fleet(4);
    const started = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    const aborted = step(started.snapshot, { type: 'abort' }, { now: at(1), target });
    expect(aborted.snapshot).toMatchObject({
      state: 'aborted',
      finishedAt: at(1),
      stateReason: 'aborted by an operator',
    });
    expect(aborted.snapshot.waves[0]!.state).toBe('halted');
    for (const event of ['pause', 'resume', 'approve', 'abort'] as const)
      expect(() => step(aborted.snapshot, { type: event }, { now: at(2), target })).toThrow(RolloutTransitionRefused);
    for (const from of ['running', 'awaiting_approval', 'paused', 'completed', 'aborted'] as const) {
      const rolled = step(rollout({ state: from }), { type: 'rollback' }, { now: at(3), target });
      expect(rolled.snapshot.state).toBe('rolled_back');
      expect(rolled.effects.map((effect) => effect.type)).toEqual(
        expect.arrayContaining(['publish-rollback', 'targets-changed', 'rollout-updated']),
      );
    }
    const rolled = step(rollout(), { type: 'rollback' }, { now: at(3), target });
    expect(() => step(rolled.snapshot, { type: 'rollback' }, { now: at(4), target })).toThrow(RolloutTransitionRefused);
  });

  it('reports of devices that are not members change nothing', () => {
    const target = fleet(4);
    const started = step(rollout(), { type: 'evaluate' }, { now: T0, target });
    const outsider = target.find((device) => !membersOf(started.snapshot, 0).includes(device.id))!;
    const result = step(
      started.snapshot,
      { type: 'report', deviceId: outsider.id, outcome: 'failed' },
      { now: at(1), target },
    );
    expect(result.snapshot.state).toBe('running');
    expect(result.effects).toEqual([]);
  });
});
