import type {
  CreateRolloutBody,
  DevicePin,
  ErrorThreshold,
  OptimizationPolicy,
  RolloutAction,
  RolloutDeviceCounts,
  RolloutListQuery,
  RolloutMember,
  RolloutView,
} from '@modelfleet/contracts';
import type { Database, RolloutState } from '@modelfleet/db';
import { ensureChannel, publishRelease } from '@modelfleet/releases';
import type { SigningKey } from '@modelfleet/signing';
import { CandidateNotFound, VersionNotFound, VersionNotReady } from '../domain/errors.js';
import { findLineOrThrow } from '../domain/lines.js';
import { DeviceNotFound } from '../devices/errors.js';
import { RequestInvalid } from '../errors.js';
import { targetsChanged } from './changes.js';
import {
  PinReleaseNotFound,
  RolloutActive,
  RolloutNoPreviousRelease,
  RolloutNotFound,
  RolloutReleaseNotFound,
  RolloutReleaseNotNewer,
  RolloutStateConflict,
} from './errors.js';
import { ACTIVE_STATES, RolloutTransitionRefused, type RolloutEvent, type RolloutSnapshot } from './machine.js';
import { notify, run, sweepRollouts } from './progress.js';
import { loadTarget, transition } from './store.js';

export const ROLLOUT_DEFAULTS = {
  successThreshold: 100,
  errorThreshold: { count: 1 },
  inProgressTimeoutSeconds: 3600,
  autoAdvance: true,
} as const;

export interface RolloutServiceOptions {
  /** Called after a release was published here (the rollout's own, a rollback's): e.g. queue delta precompute. */
  releasePublished?: (releaseId: string) => Promise<void>;
  logger?: RolloutLogger;
}

/** The part of a pino logger the service uses (a request's or the app's child logger both fit). */
export interface RolloutLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

const ACTIVE = [...ACTIVE_STATES] as RolloutState[];

export interface RolloutService {
  create(body: CreateRolloutBody, now?: Date): Promise<RolloutView>;
  act(id: string, action: RolloutAction, reason?: string, now?: Date): Promise<RolloutView>;
  view(id: string): Promise<RolloutView>;
  list(query: RolloutListQuery): Promise<RolloutView[]>;
  members(id: string): Promise<RolloutMember[]>;
  pin(deviceId: string, release: number | null): Promise<DevicePin>;
  /** Starts the periodic sweep (timeouts, new devices). Several servers may sweep at once: the row lock serialises. */
  startSweep(intervalMs: number): void;
  close(): Promise<void>;
}

export function createRolloutService(
  db: Database,
  signingKey: SigningKey,
  options: RolloutServiceOptions = {},
): RolloutService {
  const { prisma } = db;
  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  async function latestGeneral(channelId: string, below?: number) {
    return prisma.release.findFirst({
      where: { channelId, staged: false, ...(below === undefined ? {} : { number: { lt: below } }) },
      orderBy: { number: 'desc' },
    });
  }

  async function published(releaseId: string): Promise<void> {
    if (options.releasePublished === undefined) return;
    await options
      .releasePublished(releaseId)
      .catch((error: unknown) =>
        options.logger?.warn({ err: error, releaseId }, 'could not hand on a published release'),
      );
  }

  async function chooseCandidate(lineId: string, lineName: string, body: CreateRolloutBody): Promise<string> {
    if (body.candidateId !== undefined) {
      const candidate = await prisma.candidate.findFirst({ where: { id: body.candidateId, version: { lineId } } });
      if (candidate === null) throw new CandidateNotFound(body.candidateId, lineName);
      return candidate.id;
    }
    const version = await prisma.modelVersion.findFirst({ where: { id: body.version!, lineId } });
    if (version === null) throw new VersionNotFound(body.version!, lineName);
    if (version.winnerCandidateId === null) throw new VersionNotReady(version.id, version.status);
    return version.winnerCandidateId;
  }

  function checkWaves(body: CreateRolloutBody): void {
    let last = 0;
    for (const wave of body.waves) {
      if (!('percent' in wave)) continue;
      if (wave.percent <= last)
        throw new RequestInvalid('wave percentages are cumulative: each must exceed the one before');
      last = wave.percent;
    }
    const final = body.waves.at(-1)!;
    if (!('percent' in final) || final.percent !== 100)
      throw new RequestInvalid('the last wave must be {"percent": 100}: a completed rollout reaches the whole target');
  }

  async function create(body: CreateRolloutBody, now = new Date()): Promise<RolloutView> {
    const given = [body.release, body.candidateId, body.version].filter((value) => value !== undefined).length;
    if (given !== 1) throw new RequestInvalid('give exactly one of release, candidateId and version');
    checkWaves(body);
    const line = await findLineOrThrow(db, body.line);
    const channelName = body.channel ?? (line.policy as unknown as OptimizationPolicy).channel;
    const channel = await ensureChannel(db, line.id, channelName);
    const active = await prisma.rollout.findFirst({ where: { channelId: channel.id, state: { in: ACTIVE } } });
    if (active !== null) throw new RolloutActive(channel.name, line.name, active.id);
    const general = await latestGeneral(channel.id);
    let releaseId: string;
    if (body.release !== undefined) {
      const release = await prisma.release.findFirst({ where: { channelId: channel.id, number: body.release } });
      if (release === null) throw new RolloutReleaseNotFound(String(body.release), channel.name, line.name);
      if (general !== null && release.number <= general.number)
        throw new RolloutReleaseNotNewer(String(release.number), String(general.number));
      releaseId = release.id;
      await prisma.release.update({ where: { id: release.id }, data: { staged: true } });
    } else {
      const candidateId = await chooseCandidate(line.id, line.name, body);
      const release = await publishRelease(db, signingKey, {
        lineId: line.id,
        channel: channel.name,
        candidateId,
        staged: true,
      });
      releaseId = release.id;
      await published(release.id);
    }
    const errorThreshold: ErrorThreshold = body.errorThreshold ?? ROLLOUT_DEFAULTS.errorThreshold;
    const rollout = await prisma.rollout.create({
      data: {
        releaseId,
        channelId: channel.id,
        tagFilter: body.tagFilter ?? [],
        successThreshold: (body.successThreshold ?? ROLLOUT_DEFAULTS.successThreshold) / 100,
        errorThresholdCount: errorThreshold.count ?? null,
        errorThresholdFraction: errorThreshold.percent === undefined ? null : errorThreshold.percent / 100,
        inProgressTimeoutSeconds: body.inProgressTimeoutSeconds ?? ROLLOUT_DEFAULTS.inProgressTimeoutSeconds,
        autoAdvance: body.autoAdvance ?? ROLLOUT_DEFAULTS.autoAdvance,
        createdAt: now,
        waves: {
          create: body.waves.map((wave, index) => ({
            index,
            percent: 'percent' in wave ? wave.percent : null,
            deviceIds: 'devices' in wave ? wave.devices : [],
            state: index === 0 ? ('running' as const) : ('pending' as const),
            startedAt: index === 0 ? now : null,
          })),
        },
      },
    });
    options.logger?.info({ rolloutId: rollout.id, line: line.name, channel: channel.name }, 'rollout created');
    await run(db, rollout.id, { type: 'evaluate' }, now);
    return view(rollout.id);
  }

  async function act(id: string, action: RolloutAction, reason?: string, now = new Date()): Promise<RolloutView> {
    if (action !== 'rollback') {
      const event: RolloutEvent =
        action === 'pause' || action === 'abort'
          ? { type: action, ...(reason === undefined ? {} : { reason }) }
          : { type: action };
      await run(db, id, event, now);
      return view(id);
    }
    const rollout = await prisma.rollout.findUnique({ where: { id }, include: { release: true, channel: true } });
    if (rollout === null) throw new RolloutNotFound(id);
    if (rollout.state === 'rolled_back')
      throw new RolloutStateConflict('a rollout in state rolled_back cannot rollback');
    const previous = await latestGeneral(rollout.channelId, rollout.release.number);
    if (previous === null) throw new RolloutNoPreviousRelease(id);
    // Published held back; the transaction that records the rollback releases it to the channel, so a refused
    // rollback leaves a release no device is offered.
    const republished = await publishRelease(db, signingKey, {
      lineId: rollout.release.lineId,
      channel: rollout.channel.name,
      candidateId: previous.candidateId,
      republishedFromId: previous.id,
      staged: true,
    });
    try {
      const result = await transition(
        db,
        id,
        { type: 'rollback', ...(reason === undefined ? {} : { reason }) },
        now,
        async (tx, { snapshot }) => {
          await tx.release.update({ where: { id: republished.id }, data: { staged: false } });
          await tx.rollout.update({ where: { id: snapshot.id }, data: { rollbackReleaseId: republished.id } });
        },
      );
      notify(result);
    } catch (error) {
      if (error instanceof RolloutTransitionRefused) throw new RolloutStateConflict(error.message);
      throw error;
    }
    options.logger?.info({ rolloutId: id, release: republished.number, from: previous.number }, 'rollout rolled back');
    await published(republished.id);
    return view(id);
  }

  const INCLUDE = {
    release: { select: { number: true, artifactSha256: true } },
    channel: { select: { name: true, line: { select: { name: true } } } },
    waves: { orderBy: { index: 'asc' as const } },
  };

  async function views(where: Parameters<typeof prisma.rollout.findMany>[0]): Promise<RolloutView[]> {
    const rows = await prisma.rollout.findMany({ ...where, include: INCLUDE });
    if (rows.length === 0) return [];
    const ids = rows.map((row) => row.id);
    const counts = await prisma.rolloutDevice.groupBy({
      by: ['rolloutId', 'waveIndex', 'state'],
      where: { rolloutId: { in: ids } },
      _count: { _all: true },
    });
    const rollbackIds = rows.map((row) => row.rollbackReleaseId).filter((value): value is string => value !== null);
    const rollbacks = new Map(
      (await prisma.release.findMany({ where: { id: { in: rollbackIds } }, select: { id: true, number: true } })).map(
        (release) => [release.id, release.number],
      ),
    );
    const out: RolloutView[] = [];
    for (const row of rows) {
      const targetDevices = ACTIVE.includes(row.state) ? (await loadTarget(prisma, row)).length : 0;
      const totals = { members: 0, ...emptyCounts() };
      const waves = row.waves.map((wave) => {
        const waveCounts = emptyCounts();
        for (const count of counts)
          if (count.rolloutId === row.id && count.waveIndex === wave.index)
            waveCounts[count.state] += count._count._all;
        const total = Object.values(waveCounts).reduce((sum, value) => sum + value, 0);
        totals.members += total;
        for (const state of Object.keys(waveCounts) as (keyof RolloutDeviceCounts)[])
          totals[state] += waveCounts[state];
        return {
          index: wave.index,
          percent: wave.percent,
          devices: wave.deviceIds,
          state: wave.state,
          total,
          counts: waveCounts,
          progress: total === 0 ? (wave.state === 'succeeded' ? 1 : 0) : waveCounts.succeeded / total,
          startedAt: wave.startedAt?.toISOString() ?? null,
          finishedAt: wave.finishedAt?.toISOString() ?? null,
        };
      });
      out.push({
        id: row.id,
        line: row.channel.line.name,
        channel: row.channel.name,
        release: row.release.number,
        releaseId: row.releaseId,
        artifactSha256: row.release.artifactSha256,
        rollbackRelease: row.rollbackReleaseId === null ? null : (rollbacks.get(row.rollbackReleaseId) ?? null),
        tagFilter: row.tagFilter,
        state: row.state,
        stateReason: row.stateReason,
        currentWave: row.currentWave,
        successThreshold: row.successThreshold * 100,
        errorThreshold: {
          ...(row.errorThresholdCount === null ? {} : { count: row.errorThresholdCount }),
          ...(row.errorThresholdFraction === null ? {} : { percent: row.errorThresholdFraction * 100 }),
        },
        inProgressTimeoutSeconds: row.inProgressTimeoutSeconds,
        autoAdvance: row.autoAdvance,
        waves,
        targetDevices,
        totals,
        createdAt: row.createdAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
        finishedAt: row.finishedAt?.toISOString() ?? null,
      });
    }
    return out;
  }

  async function view(id: string): Promise<RolloutView> {
    const [found] = await views({ where: { id } });
    if (found === undefined) throw new RolloutNotFound(id);
    return found;
  }

  return {
    create,
    act,
    view,
    list: (query) =>
      views({
        where: {
          ...(query.state === undefined ? {} : { state: query.state }),
          ...(query.line === undefined && query.channel === undefined
            ? {}
            : {
                channel: {
                  ...(query.line === undefined ? {} : { line: { name: query.line } }),
                  ...(query.channel === undefined ? {} : { name: query.channel }),
                },
              }),
        },
        orderBy: { createdAt: 'desc' },
        take: 100,
      }),
    async members(id) {
      const rows = await prisma.rolloutDevice.findMany({
        where: { rolloutId: id },
        include: { device: { select: { deviceId: true } } },
        orderBy: [{ waveIndex: 'asc' }, { assignedAt: 'asc' }],
      });
      if (rows.length === 0 && (await prisma.rollout.count({ where: { id } })) === 0) throw new RolloutNotFound(id);
      return rows.map((row) => ({
        deviceId: row.device.deviceId,
        waveIndex: row.waveIndex,
        state: row.state,
        assignedAt: row.assignedAt.toISOString(),
        updatedAt: row.updatedAt.toISOString(),
      }));
    },
    async pin(deviceId, release) {
      const device = await prisma.device.findFirst({
        where: { deviceId, revokedAt: null },
        include: { channel: { include: { line: true } } },
      });
      if (device === null) throw new DeviceNotFound(deviceId);
      let pinnedReleaseId: string | null = null;
      if (release !== null) {
        const row =
          device.channelId === null
            ? null
            : await prisma.release.findFirst({ where: { channelId: device.channelId, number: release } });
        if (row === null) throw new PinReleaseNotFound(String(release), deviceId);
        pinnedReleaseId = row.id;
      }
      await prisma.device.update({ where: { id: device.id }, data: { pinnedReleaseId } });
      targetsChanged(device.channelId ?? undefined);
      return {
        deviceId,
        line: device.channel?.line.name ?? null,
        channel: device.channel?.name ?? null,
        pinnedRelease: release,
      };
    },
    startSweep(intervalMs) {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        if (sweeping !== undefined) return;
        sweeping = sweepRollouts(db)
          .catch((error: unknown) => options.logger?.warn({ err: error }, 'rollout sweep failed'))
          .finally(() => (sweeping = undefined));
      }, intervalMs);
      timer.unref();
    },
    async close() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await sweeping;
    },
  };
}

function emptyCounts(): RolloutDeviceCounts {
  return { pending: 0, in_progress: 0, succeeded: 0, failed: 0, timed_out: 0 };
}

export type { RolloutSnapshot };
