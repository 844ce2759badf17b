import { ROLLOUT_STATES } from '@modelfleet/contracts';
import type { Database } from '@modelfleet/db';
import type { MetricFamily, Sample } from './exposition.js';

const DEVICE_STATES = ['downloading', 'downloaded', 'installed', 'failed', 'rolled_back'] as const;
const VERSION_STATUSES = ['uploaded', 'optimizing', 'ready', 'failed'] as const;

/** The wire spelling of a device state (`rolled_back` is `rolled-back` in the device API). */
const wire = (value: string) => value.replace(/_/g, '-');

/** Every state of `states` (0 when no row has it), plus any other a row carries; labels spelt by `spell`. */
function byState(
  states: readonly string[],
  rows: readonly { state: string | null; count: number }[],
  spell: (state: string) => string = (state) => state,
): Sample[] {
  const counts = new Map<string, number>(states.map((state) => [state, 0]));
  for (const row of rows) counts.set(row.state ?? 'none', (counts.get(row.state ?? 'none') ?? 0) + row.count);
  return [...counts].map(([state, value]) => ({ labels: { state: spell(state) }, value }));
}

/**
 * Gauges read from the database at scrape time, so every server process reports the same fleet-wide
 * values (a few grouped counts; no table is scanned row by row into memory).
 */
export async function fleetGauges(db: Database): Promise<MetricFamily[]> {
  const { prisma } = db;
  const active = { revokedAt: null };
  const [rollouts, deviceStates, versions, perRelease, downloads] = await Promise.all([
    prisma.rollout.groupBy({ by: ['state'], _count: { _all: true } }),
    prisma.device.groupBy({ by: ['state'], where: active, _count: { _all: true } }),
    prisma.modelVersion.groupBy({ by: ['status'], _count: { _all: true } }),
    prisma.$queryRaw<{ line: string | null; channel: string | null; release: number | null; devices: string }[]>`
      SELECT l.name AS line, c.name AS channel, r.number AS release, count(*)::text AS devices
      FROM devices d
      LEFT JOIN releases r ON r.id = d.current_release_id
      LEFT JOIN channels c ON c.id = coalesce(r.channel_id, d.channel_id)
      LEFT JOIN model_lines l ON l.id = c.line_id
      WHERE d.revoked_at IS NULL
      GROUP BY l.name, c.name, r.number`,
    prisma.deviceReport.groupBy({
      by: ['downloadKind'],
      // The agent repeats the download's figures in its `installed` report; a download counts once, when finished.
      where: { downloadKind: { not: null }, state: 'downloaded' },
      _count: { _all: true },
      _sum: { bytesDownloaded: true },
    }),
  ]);
  return [
    {
      name: 'modelfleet_rollouts',
      type: 'gauge',
      help: 'Rollouts per state (the spelling of the rollouts API).',
      samples: byState(
        ROLLOUT_STATES,
        rollouts.map((row) => ({ state: row.state, count: row._count._all })),
      ),
    },
    {
      name: 'modelfleet_devices',
      type: 'gauge',
      help: 'Enrolled (not revoked) devices per last reported update state (`none`: nothing reported yet).',
      samples: byState(
        DEVICE_STATES,
        deviceStates.map((row) => ({ state: row.state, count: row._count._all })),
        wire,
      ),
    },
    {
      name: 'modelfleet_devices_per_release',
      type: 'gauge',
      help: 'Enrolled (not revoked) devices per line, channel and the release they run (`none`: no release yet).',
      samples: perRelease.map((row) => ({
        labels: {
          line: row.line ?? 'none',
          channel: row.channel ?? 'none',
          release: row.release === null ? 'none' : String(row.release),
        },
        value: Number(row.devices),
      })),
    },
    {
      name: 'modelfleet_model_versions',
      type: 'gauge',
      help: 'Uploaded model versions per optimization status.',
      samples: byState(
        VERSION_STATUSES,
        versions.map((row) => ({ state: row.status, count: row._count._all })),
      ),
    },
    {
      name: 'modelfleet_device_downloads_total',
      type: 'counter',
      help: 'Downloads devices reported as finished, by kind (full artifact or delta).',
      samples: ['full', 'delta'].map((kind) => ({
        labels: { kind },
        value: downloads.find((row) => row.downloadKind === kind)?._count._all ?? 0,
      })),
    },
    {
      name: 'modelfleet_device_download_bytes_total',
      type: 'counter',
      help: 'Bytes devices reported fetching for finished downloads, by kind (full artifact or delta).',
      samples: ['full', 'delta'].map((kind) => ({
        labels: { kind },
        value: downloads.find((row) => row.downloadKind === kind)?._sum.bytesDownloaded ?? 0,
      })),
    },
  ];
}
