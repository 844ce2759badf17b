/**
 * What bench:fleet and bench:poll share: the seeded fleet, children, readiness, the autocannon load run, a
 * process's CPU time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Database } from '@modelfleet/db';
import { ensureChannel, publishRelease } from '@modelfleet/releases';
import { loadOrCreateSigningKey } from '@modelfleet/signing';
import { createFsBlobStore } from '@modelfleet/storage';
import { completePolicy } from '../src/domain/lines.js';
import { generateFleetToken } from '../src/devices/tokens.js';
import { insertReadyCandidate } from '@modelfleet/db/testing';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  medianMs: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  statuses: Record<string, number>;
  /** CPU time (user + system) the server process used during the run. */
  serverCpuSeconds?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
    probe.once('error', reject);
  });
}

/** Starts `node <argv>`; its stdout (the server's JSON log) goes to `logFd` when given, else nowhere. */
export function startNode(cwd: string, argv: string[], env: Record<string, string> = {}, logFd?: number): ChildProcess {
  return spawn(process.execPath, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', logFd ?? 'ignore', 'inherit'],
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

export async function waitUntilUp(child: ChildProcess, base: string, deadlineMs = 90_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it answered`);
    const ok = await fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${base} did not come up within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * CPU seconds (user + system) of a process so far, from /proc/<pid>/stat — what `process.cpuUsage()` reports
 * inside that process, read from outside it. Undefined where there is no /proc.
 */
export async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces, inside parentheses): utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** One autocannon run from its own process (bench/poll-load.ts), with the server's CPU time over the run. */
export async function runLoad(
  appRoot: string,
  url: string,
  tokensFile: string,
  runSeconds: number,
  connections: number,
  serverPid: number | undefined,
): Promise<LoadResult> {
  const before = await cpuSecondsOf(serverPid);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/poll-load.ts', url, tokensFile, String(runSeconds), String(connections)],
    { cwd: appRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  const after = await cpuSecondsOf(serverPid);
  const result = JSON.parse(output.trim().split('\n').pop()!) as LoadResult;
  if (before !== undefined && after !== undefined) result.serverCpuSeconds = after - before;
  return result;
}

/** One release on `bench-poll`/stable and N devices on it, written straight into the database (hashed tokens). */
export async function seedPollFleet(
  db: Database,
  dataDir: string,
  deviceCount: number,
): Promise<{ tokens: string[]; targetSha256: string }> {
  const { key } = await loadOrCreateSigningKey(path.join(dataDir, 'keys', 'signing-key.pem'));
  const blobs = await createFsBlobStore({ root: path.join(dataDir, 'blobs') });
  const { prisma } = db;
  const line = await prisma.modelLine.create({
    data: {
      name: 'bench-poll',
      preprocessing: { inputSize: [64, 64], scale: 1 / 127.5, offset: -1, classNames: ['glass', 'paper'] },
      policy: completePolicy({ autoPublish: false }),
    },
  });
  const artifact = await blobs.put(new Uint8Array(randomBytes(64 * 1024)));
  const candidate = await insertReadyCandidate(prisma, { lineId: line.id, artifact });
  const release = await publishRelease(db, key, { lineId: line.id, channel: 'stable', candidateId: candidate.id });
  const channel = await ensureChannel(db, line.id, 'stable');
  const tokens: string[] = [];
  // An established fleet: enrolled a day ago (a device enrolled seconds ago is re-read until its change settles).
  const enrolledAt = new Date(Date.now() - 24 * 3600 * 1000);
  for (let start = 0; start < deviceCount; start += 2_000) {
    const rows = [];
    for (let i = start; i < Math.min(deviceCount, start + 2_000); i++) {
      const { token, hash } = generateFleetToken('mfd');
      tokens.push(token);
      rows.push({
        deviceId: `poll-${i}`,
        tokenHash: hash,
        tags: [],
        channelId: channel.id,
        currentReleaseId: release.id,
        currentArtifactSha256: artifact.sha256,
        state: 'installed' as const,
        enrolledAt,
      });
    }
    await prisma.device.createMany({ data: rows });
  }
  return { tokens, targetSha256: artifact.sha256 };
}

export const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
