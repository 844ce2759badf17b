import type { DeviceInfo, RolloutView } from '@modelfleet/contracts';
import { formatFixed, formatTimestamp, shortHash } from './format.js';
import { renderFields, renderTable } from './table.js';

const BAR_WIDTH = 20;

/** "[#######.............]  35 %": a wave's progress (succeeded of its devices). */
export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const clamped = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)} %`;
}

function thresholdText(view: RolloutView): string {
  const parts = [
    ...(view.errorThreshold.count === undefined ? [] : [`${view.errorThreshold.count} device(s)`]),
    ...(view.errorThreshold.percent === undefined ? [] : [`${formatFixed(view.errorThreshold.percent, 0)} %`]),
  ];
  return parts.length === 0 ? '-' : parts.join(' or ');
}

/** One rollout: its fields, then a table of waves with a progress bar and the counts per device state. */
export function renderRollout(view: RolloutView): string {
  const fields = renderFields([
    ['rollout', view.id],
    ['release', `${view.line} ${view.channel} #${view.release} (${shortHash(view.artifactSha256)})`],
    ['state', view.stateReason === null ? view.state : `${view.state} — ${view.stateReason}`],
    [
      'target',
      `${view.targetDevices} device(s)${view.tagFilter.length > 0 ? `, tags ${view.tagFilter.join(',')}` : ''}`,
    ],
    ['wave', `${view.currentWave + 1} of ${view.waves.length}`],
    [
      'thresholds',
      `success ${formatFixed(view.successThreshold, 0)} %, pause at ${thresholdText(view)}, timeout ${view.inProgressTimeoutSeconds} s`,
    ],
    ...(view.rollbackRelease === null ? [] : ([['rolled back to', `#${view.rollbackRelease}`]] as const)),
    ['started', formatTimestamp(view.createdAt)],
    ['finished', formatTimestamp(view.finishedAt)],
  ]);
  const waves = renderTable(
    [
      { header: 'wave', align: 'right', value: (wave) => String(wave.index + 1) },
      {
        header: 'reach',
        value: (wave) =>
          wave.percent === null ? `${wave.devices.length} listed` : `${formatFixed(wave.percent, 0)} %`,
      },
      { header: 'state', value: (wave) => wave.state },
      { header: 'progress', value: (wave) => progressBar(wave.progress) },
      { header: 'devices', align: 'right', value: (wave) => String(wave.total) },
      { header: 'ok', align: 'right', value: (wave) => String(wave.counts.succeeded) },
      { header: 'busy', align: 'right', value: (wave) => String(wave.counts.in_progress + wave.counts.pending) },
      { header: 'failed', align: 'right', value: (wave) => String(wave.counts.failed) },
      { header: 'timed out', align: 'right', value: (wave) => String(wave.counts.timed_out) },
    ],
    view.waves,
  );
  return `${fields}\n${waves}`;
}

export function renderRolloutList(views: readonly RolloutView[]): string {
  if (views.length === 0) return 'no rollouts\n';
  return renderTable(
    [
      { header: 'id', value: (view) => shortHash(view.id, 8) },
      { header: 'line', value: (view) => view.line },
      { header: 'channel', value: (view) => view.channel },
      { header: 'release', align: 'right', value: (view) => String(view.release) },
      { header: 'state', value: (view) => view.state },
      { header: 'wave', value: (view) => `${view.currentWave + 1}/${view.waves.length}` },
      { header: 'ok', align: 'right', value: (view) => `${view.totals.succeeded}/${view.totals.members}` },
      { header: 'failed', align: 'right', value: (view) => String(view.totals.failed + view.totals.timed_out) },
      { header: 'started', value: (view) => formatTimestamp(view.createdAt) },
    ],
    views,
  );
}

export function renderDeviceList(devices: readonly DeviceInfo[]): string {
  if (devices.length === 0) return 'no devices\n';
  return renderTable(
    [
      { header: 'device', value: (device) => device.deviceId },
      { header: 'line', value: (device) => device.line ?? '-' },
      { header: 'channel', value: (device) => device.channel ?? '-' },
      {
        header: 'release',
        align: 'right',
        value: (device) => (device.release === null ? '-' : String(device.release)),
      },
      {
        header: 'pin',
        align: 'right',
        value: (device) => (device.pinnedRelease === null ? '-' : String(device.pinnedRelease)),
      },
      { header: 'state', value: (device) => device.state ?? '-' },
      { header: 'smoke ms', align: 'right', value: (device) => formatFixed(device.smokeLatencyMs, 1) },
      { header: 'tags', value: (device) => (device.tags.length === 0 ? '-' : device.tags.join(',')) },
      { header: 'last seen', value: (device) => formatTimestamp(device.lastSeenAt) },
      { header: 'last error', value: (device) => device.lastError?.slice(0, 60) ?? '-' },
    ],
    devices,
  );
}
