import type { DeviceInfo } from '@modelfleet/contracts';
import type { Database, Prisma } from '@modelfleet/db';
import { stateFromDb } from './reports.js';

export interface DeviceFilter {
  line?: string | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
}

/** The operators' view of the fleet: each device's release (and pin), state, last error and when it was last heard from. */
export async function listDevices(db: Database, filter: DeviceFilter, limit = 10_000): Promise<DeviceInfo[]> {
  const channel: Prisma.ChannelWhereInput = {
    ...(filter.line === undefined ? {} : { line: { name: filter.line } }),
    ...(filter.channel === undefined ? {} : { name: filter.channel }),
  };
  const rows = await db.prisma.device.findMany({
    where: {
      ...(filter.line === undefined && filter.channel === undefined ? {} : { channel }),
      ...(filter.tag === undefined ? {} : { tags: { has: filter.tag } }),
    },
    include: {
      channel: { include: { line: { select: { name: true } } } },
      currentRelease: { select: { number: true } },
      pinnedRelease: { select: { number: true } },
    },
    orderBy: { deviceId: 'asc' },
    take: limit,
  });
  return rows.map((row) => ({
    deviceId: row.deviceId,
    line: row.channel?.line.name ?? null,
    channel: row.channel?.name ?? null,
    tags: row.tags,
    hardwareClass: row.hardwareClass,
    runtime: row.runtime,
    release: row.currentRelease?.number ?? null,
    pinnedRelease: row.pinnedRelease?.number ?? null,
    artifactSha256: row.currentArtifactSha256,
    state: row.state === null ? null : stateFromDb(row.state),
    lastError: row.lastError,
    smokeLatencyMs: row.lastSmokeLatencyMs,
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    enrolledAt: row.enrolledAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
  }));
}
