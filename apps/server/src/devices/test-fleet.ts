import { randomBytes } from 'node:crypto';
import type { Enrolled } from '@modelfleet/contracts';
import type { Release } from '@modelfleet/db';
import { publishRelease } from '@modelfleet/releases';
import { createLine } from '../testing/api.js';
import type { TestServer } from '../testing/test-server.js';
import { insertReadyCandidate } from '@modelfleet/db/testing';

/**
 * Test support for the device API: releases made quickly (rows inserted directly, the artifact a random
 * blob in the server's store, published with the real publisher), enrolment through the API.
 */

/** An eligible, unpublished candidate of `line` (created on first use) whose artifact is `bytes` (else random). */
export async function createTestCandidate(
  server: TestServer,
  line: string,
  options: { bytes?: Uint8Array; encoding?: string } = {},
): Promise<{ candidate: { id: string; artifactSha256: string; lineId: string }; bytes: Uint8Array }> {
  const { prisma } = server.services.db;
  const lineRow = (await prisma.modelLine.findUnique({ where: { name: line } })) ?? (await createLine(server, line));
  const bytes = options.bytes ?? new Uint8Array(randomBytes(4096 + Math.floor(Math.random() * 4096)));
  const stored = await server.services.blobs.put(bytes);
  const candidate = await insertReadyCandidate(prisma, {
    lineId: lineRow.id,
    artifact: stored,
    ...(options.encoding === undefined ? {} : { encoding: options.encoding }),
  });
  return { candidate: { ...candidate, lineId: lineRow.id }, bytes };
}

/** Publishes a new release of `line` (created on first use) on `channel` whose artifact is `bytes`. */
export async function publishTestRelease(
  server: TestServer,
  line: string,
  options: { channel?: string; bytes?: Uint8Array; encoding?: string; viaApi?: boolean } = {},
): Promise<{ release: Release; bytes: Uint8Array }> {
  const { candidate, bytes } = await createTestCandidate(server, line, options);
  const channel = options.channel ?? 'stable';
  if (options.viaApi === true) {
    // Through POST /v1/models/:line/releases, which evicts the poll cache of this process.
    const response = await server.app.inject({
      method: 'POST',
      url: `/v1/models/${line}/releases`,
      headers: server.auth(),
      payload: { candidateId: candidate.id, channel },
    });
    if (response.statusCode !== 201) throw new Error(`publish: ${response.statusCode} ${response.body}`);
    const release = await server.services.db.prisma.release.findUniqueOrThrow({
      where: { id: response.json<{ id: string }>().id },
    });
    return { release, bytes };
  }
  const release = await publishRelease(server.services.db, server.services.signingKey, {
    lineId: candidate.lineId,
    channel,
    candidateId: candidate.id,
  });
  return { release, bytes };
}

/** Creates an enrolment token through the API (admin key) and returns its secret. */
export async function createTestEnrollmentToken(
  server: TestServer,
  scope: { line: string; channel?: string; tags?: string[] },
  options: { expiresInSeconds?: number; name?: string } = {},
): Promise<{ id: string; token: string }> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/enrollment-tokens',
    headers: server.auth(),
    payload: { name: options.name ?? 'test fleet', scope: { channel: 'stable', ...scope }, ...options },
  });
  if (response.statusCode !== 201) throw new Error(`create enrolment token: ${response.statusCode} ${response.body}`);
  return response.json<{ id: string; token: string }>();
}

/** Enrols a device through the API; fails the test on anything but 201. */
export async function enrollTestDevice(
  server: TestServer,
  enrollmentToken: string,
  deviceId: string,
  body: { tags?: string[]; hardwareClass?: string; runtime?: string } = {},
): Promise<Enrolled> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/device/enroll',
    headers: { authorization: `Bearer ${enrollmentToken}` },
    payload: { deviceId, ...body },
  });
  if (response.statusCode !== 201) throw new Error(`enrol ${deviceId}: ${response.statusCode} ${response.body}`);
  return response.json<Enrolled>();
}
