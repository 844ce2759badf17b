import type {
  CreateEnrollmentTokenBody,
  EnrollBody,
  Enrolled,
  EnrollmentScope,
  EnrollmentTokenInfo,
} from '@modelfleet/contracts';
import type { Database, EnrollmentToken } from '@modelfleet/db';
import { ensureChannel } from '@modelfleet/releases';
import { CredentialInvalid } from '../auth/errors.js';
import { LineNotFound } from '../domain/errors.js';
import { DeviceIdTaken, EnrollmentLineGone } from './errors.js';
import { generateFleetToken, hashFleetToken, isWellFormedFleetToken } from './tokens.js';

/** The stored scope is the wire scope (`EnrollmentScope`), tags defaulting to none. */
function scopeOf(row: EnrollmentToken): EnrollmentScope {
  const scope = row.scope as unknown as EnrollmentScope;
  return { line: scope.line, channel: scope.channel, tags: scope.tags ?? [] };
}

export function enrollmentTokenOut(row: EnrollmentToken): EnrollmentTokenInfo {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    scope: scopeOf(row),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Creates an enrolment token for an existing line; its channel row is created now if needed. */
export async function createEnrollmentToken(
  db: Database,
  body: CreateEnrollmentTokenBody,
  now = new Date(),
): Promise<{ row: EnrollmentToken; token: string }> {
  const line = await db.prisma.modelLine.findUnique({ where: { name: body.scope.line } });
  if (line === null) throw new LineNotFound(body.scope.line);
  await ensureChannel(db, line.id, body.scope.channel);
  const { token, prefix, hash } = generateFleetToken('mfe');
  const scope: EnrollmentScope = {
    line: line.name,
    channel: body.scope.channel,
    tags: [...new Set(body.scope.tags ?? [])],
  };
  const row = await db.prisma.enrollmentToken.create({
    data: {
      name: body.name,
      prefix,
      tokenHash: hash,
      scope,
      expiresAt: body.expiresInSeconds === undefined ? null : new Date(now.getTime() + body.expiresInSeconds * 1000),
    },
  });
  return { row, token };
}

export interface EnrollResult {
  enrolled: Enrolled;
  deviceRowId: string;
  /** True when the device existed and its token was rotated (the old one no longer works). */
  rotated: boolean;
}

/**
 * Exchanges an enrolment token for a device token. The device follows the token's line and channel and
 * carries the token's tags plus its own. Enrolling an existing device id again gives it a new token (the
 * old one stops working) and lifts a revocation: whoever holds a valid enrolment token may enrol devices
 * anyway, so a revoked id stays safe only while the enrolment tokens that could re-enrol it are revoked too.
 * Only a token of the device's own line may do that: a token of another line cannot take over (rotate the
 * token of, and move) a device it was never issued for (MF_ERR_DEVICE_ID_TAKEN).
 */
export async function enrollDevice(
  db: Database,
  enrollmentToken: string,
  body: EnrollBody,
  now = new Date(),
): Promise<EnrollResult> {
  if (!isWellFormedFleetToken('mfe', enrollmentToken)) throw new CredentialInvalid();
  const tokenRow = await db.prisma.enrollmentToken.findUnique({
    where: { tokenHash: hashFleetToken(enrollmentToken) },
  });
  if (tokenRow === null || tokenRow.revokedAt !== null || (tokenRow.expiresAt !== null && tokenRow.expiresAt <= now)) {
    throw new CredentialInvalid();
  }
  const scope = scopeOf(tokenRow);
  const line = await db.prisma.modelLine.findUnique({ where: { name: scope.line } });
  if (line === null) throw new EnrollmentLineGone(scope.line);
  const channel = await ensureChannel(db, line.id, scope.channel);
  const tags = [...new Set([...(scope.tags ?? []), ...(body.tags ?? [])])].sort();
  const { token, hash } = generateFleetToken('mfd');
  const fields = {
    tokenHash: hash,
    tags,
    hardwareClass: body.hardwareClass ?? null,
    runtime: body.runtime ?? null,
    channelId: channel.id,
    enrollmentTokenId: tokenRow.id,
    revokedAt: null,
    // The time of the latest enrolment: the device-token caches of other processes sweep by it.
    enrolledAt: now,
  };
  const existingDevice = () =>
    db.prisma.device.findUnique({
      where: { deviceId: body.deviceId },
      select: { id: true, channel: { select: { lineId: true } } },
    });
  /** Rotates an existing device's token, if this token's line is the device's line (or it has none). */
  const reenroll = async (device: { id: string; channel: { lineId: string } | null }) => {
    if (device.channel !== null && device.channel.lineId !== line.id) throw new DeviceIdTaken(body.deviceId);
    return (await db.prisma.device.update({ where: { id: device.id }, data: fields })).id;
  };
  const existing = await existingDevice();
  let deviceRowId: string;
  if (existing === null) {
    try {
      deviceRowId = (await db.prisma.device.create({ data: { deviceId: body.deviceId, ...fields } })).id;
    } catch (error) {
      if ((error as { code?: string }).code !== 'P2002') throw error;
      // The same device enrolled twice at once: the later one rotates the token the earlier one got.
      const raced = await existingDevice();
      if (raced === null) throw error;
      deviceRowId = await reenroll(raced);
    }
  } else {
    deviceRowId = await reenroll(existing);
  }
  return {
    enrolled: { deviceId: body.deviceId, deviceToken: token, line: line.name, channel: channel.name, tags },
    deviceRowId,
    rotated: existing !== null,
  };
}
