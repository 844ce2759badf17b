import type { DeviceReportBody, DeviceState } from '@modelfleet/contracts';
import type { Database, DeviceUpdateState } from '@modelfleet/db';
import { recordRolloutProgress } from '../rollouts/progress.js';
import type { DevicePrincipal } from './principal.js';

/** `rolled-back` on the wire, `rolled_back` in the database enum. */
export const stateToDb = (state: DeviceState): DeviceUpdateState => (state === 'rolled-back' ? 'rolled_back' : state);
export const stateFromDb = (state: DeviceUpdateState): DeviceState => (state === 'rolled_back' ? 'rolled-back' : state);

/**
 * Stores a device's report and moves the device's state, once per idempotency key: the report row and the
 * device update commit together, and a retry of a stored report (unique (device, key)) changes nothing.
 * Release numbers refer to the device's channel. Only `installed` moves the device's current release and
 * artifact: the agent reports it after the smoke test made the swap final, and a `rolled-back` report
 * names the release that was refused, not the one the device runs.
 * A report on a release moves the device in that release's active rollouts (docs/rollouts.md); that step is
 * idempotent and runs for a retried report too, so a report whose rollout step failed is completed by its retry.
 * Resolves false when the key was seen before.
 */
export async function recordReport(
  db: Database,
  device: DevicePrincipal,
  body: DeviceReportBody,
  now = new Date(),
): Promise<boolean> {
  const release =
    body.release === undefined || device.channelId === null
      ? null
      : await db.prisma.release.findFirst({
          where: { channelId: device.channelId, number: body.release },
          select: { id: true, artifactSha256: true },
        });
  const artifactSha256 = body.artifactSha256 ?? release?.artifactSha256 ?? null;
  const state = stateToDb(body.state);
  let accepted = true;
  try {
    await db.prisma.$transaction([
      db.prisma.deviceReport.create({
        data: {
          deviceId: device.id,
          idempotencyKey: body.idempotencyKey,
          state,
          releaseId: release?.id ?? null,
          artifactSha256,
          error: body.error ?? null,
          downloadKind: body.download?.kind ?? null,
          bytesDownloaded: body.download?.bytes ?? null,
          smokeLatencyMs: body.smokeLatencyMs ?? null,
          occurredAt: body.occurredAt === undefined ? null : new Date(body.occurredAt),
          receivedAt: now,
        },
      }),
      db.prisma.device.update({
        where: { id: device.id },
        data: {
          state,
          lastSeenAt: now,
          ...(body.state === 'failed' || body.state === 'rolled-back' ? { lastError: body.error ?? null } : {}),
          ...(body.state === 'installed'
            ? { currentReleaseId: release?.id ?? null, currentArtifactSha256: artifactSha256, lastError: null }
            : {}),
          ...(body.smokeLatencyMs === undefined ? {} : { lastSmokeLatencyMs: body.smokeLatencyMs }),
        },
      }),
    ]);
  } catch (error) {
    if ((error as { code?: string }).code !== 'P2002') throw error;
    accepted = false;
  }
  if (release !== null) await recordRolloutProgress(db, device.id, release.id, body.state, now);
  return accepted;
}
