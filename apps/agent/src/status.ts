/** `modelfleet-agent status`: what this device runs, read from the data folder only (works offline). */
import fs from 'node:fs/promises';
import path from 'node:path';
import { linkedSha256, readRecord, releaseFolder } from './install.js';
import { dataLayout } from './layout.js';
import { createOutbox } from './outbox.js';
import { silentLogger } from './log.js';
import { readAgentState, readDeviceIdentity } from './state.js';

export interface ReleaseSummary {
  line: string;
  channel: string;
  release: number;
  sha256: string;
  variant: string;
  installedAt: string;
  smokeLatencyMs: number | null;
  path: string;
}

export interface AgentStatus {
  deviceId: string | null;
  enrolled: boolean;
  line: string | null;
  channel: string | null;
  current: ReleaseSummary | null;
  previous: ReleaseSummary | null;
  lastPollAt: string | null;
  lastOutcome: string | null;
  lastError: { code: string; message: string; at: string } | null;
  pendingReports: number;
  downloadsInProgress: { sha256: string; bytes: number }[];
}

async function summary(dataDir: string, sha256: string | null): Promise<ReleaseSummary | null> {
  if (sha256 === null) return null;
  const folder = releaseFolder(dataLayout(dataDir), sha256);
  const record = await readRecord(folder);
  if (record === null) return null;
  return {
    line: record.line,
    channel: record.channel,
    release: record.release,
    sha256: record.sha256,
    variant: record.variant,
    installedAt: record.installedAt,
    smokeLatencyMs: record.smokeLatencyMs,
    path: folder,
  };
}

export async function readStatus(dataDir: string): Promise<AgentStatus> {
  const layout = dataLayout(dataDir);
  const identity = await readDeviceIdentity(layout);
  const state = await readAgentState(layout);
  const downloads: { sha256: string; bytes: number }[] = [];
  for (const name of await fs.readdir(layout.downloads).catch(() => [] as string[]))
    if (name.endsWith('.part'))
      downloads.push({ sha256: name.slice(0, -5), bytes: (await fs.stat(path.join(layout.downloads, name))).size });
  return {
    deviceId: identity?.deviceId ?? null,
    enrolled: identity !== null,
    line: identity?.line ?? null,
    channel: identity?.channel ?? null,
    current: await summary(dataDir, await linkedSha256(layout.current)),
    previous: await summary(dataDir, await linkedSha256(layout.previous)),
    lastPollAt: state.lastPollAt,
    lastOutcome: state.lastOutcome,
    lastError: state.lastError,
    pendingReports: (await createOutbox(layout.outbox, silentLogger).pending()).length,
    downloadsInProgress: downloads,
  };
}

export function formatStatus(status: AgentStatus): string {
  const release = (r: ReleaseSummary | null) =>
    r === null
      ? 'none'
      : `${r.line}/${r.channel} release ${r.release} (${r.variant}) sha256 ${r.sha256} installed ${r.installedAt}`;
  const lines = [
    `device:    ${status.deviceId ?? '(not enrolled)'}${status.line !== null ? ` following ${status.line}/${status.channel}` : ''}`,
    `current:   ${release(status.current)}`,
    `previous:  ${release(status.previous)}`,
    `last poll: ${status.lastPollAt ?? 'never'}${status.lastOutcome !== null ? ` (${status.lastOutcome})` : ''}`,
    `last error: ${status.lastError === null ? 'none' : `${status.lastError.code} ${status.lastError.message} (${status.lastError.at})`}`,
    `reports pending: ${status.pendingReports}`,
  ];
  for (const download of status.downloadsInProgress)
    lines.push(`downloading: ${download.sha256} (${download.bytes} bytes on disk)`);
  return `${lines.join('\n')}\n`;
}
