import { candidateChart } from './chart.js';
import { h, replace, formatAgo, formatBytes, formatNumber } from './dom.js';

const table = (headings, rows, attributes = {}) =>
  h(
    'table',
    attributes,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headings.map((heading) => h('th', {}, heading)),
      ),
    ),
    h('tbody', {}, rows),
  );

const empty = (text) => h('p', { class: 'empty' }, text);

function candidateTable(version) {
  const rows = [...version.candidates]
    .sort((a, b) => a.objective - b.objective)
    .map((candidate) =>
      h(
        'tr',
        {
          class: candidate.winner ? 'winner' : candidate.eligible ? '' : 'ineligible',
          'data-variant': candidate.variant,
        },
        h('td', {}, candidate.winner ? '★ ' : '', candidate.variant),
        h('td', {}, candidate.encoding),
        h('td', { class: 'num' }, formatBytes(candidate.wireBytes)),
        h('td', { class: 'num' }, formatNumber(candidate.accuracy, 2), candidate.accuracySimulated ? '*' : ''),
        h('td', { class: 'num' }, formatNumber(candidate.latencyMedianMs, 2)),
        h('td', { class: 'num' }, formatNumber(candidate.latencyP90Ms, 2)),
        h('td', { class: 'num' }, formatNumber(candidate.objective, 3)),
        h('td', {}, candidate.eligible ? 'yes' : `no: ${candidate.ineligibleReason ?? ''}`),
      ),
    );
  return table(['variant', 'encoding', 'download', 'accuracy %', 'latency ms', 'p90 ms', 'L', 'eligible'], rows, {
    class: 'candidates',
  });
}

function versionBlock(version) {
  const status =
    version.status === 'optimizing' || version.status === 'uploaded'
      ? `${version.status} — ${version.progress.stage ?? 'queued'} ${formatNumber(version.progress.percent, 0)} %`
      : version.status;
  const releases = version.releaseNumbers.map((release) => `${release.channel} #${release.number}`).join(', ');
  return h(
    'article',
    { class: 'version', 'data-version': version.id, 'data-status': version.status },
    h(
      'h3',
      {},
      `version ${version.id.slice(0, 8)}`,
      h('span', { class: `badge status-${version.status}` }, status),
      releases === '' ? null : h('span', { class: 'releases' }, `released as ${releases}`),
    ),
    version.error === null ? null : h('p', { class: 'error' }, `${version.error.code}: ${version.error.message}`),
    version.selection === null ? null : h('p', { class: 'selection' }, version.selection.reason),
    version.candidates.length === 0
      ? null
      : h(
          'div',
          { class: 'version-body' },
          candidateTable(version),
          h(
            'figure',
            {},
            candidateChart(version.candidates),
            h('figcaption', {}, 'size vs accuracy; marker size = median latency; ★ winner; hollow = ineligible'),
          ),
        ),
  );
}

export function renderLines(container, lines) {
  if (lines.length === 0) return replace(container, empty('No model lines yet: `modelfleet lines create …`.'));
  replace(
    container,
    lines.map(({ line, versions }) =>
      h(
        'section',
        { class: 'line', 'data-line': line.name },
        h('h2', {}, line.name, h('span', { class: 'muted' }, ` ${line.preprocessing.classNames.join(' / ')}`)),
        versions.length === 0 ? empty('No versions uploaded.') : versions.slice(0, 5).map(versionBlock),
      ),
    ),
  );
}

export function renderReleases(container, lines) {
  const rows = lines.flatMap(({ line, releases }) =>
    releases.map((release) =>
      h(
        'tr',
        { 'data-release': `${line.name}/${release.channel}/${release.number}` },
        h('td', {}, line.name),
        h('td', {}, release.channel),
        h('td', { class: 'num' }, `#${release.number}`),
        h('td', {}, release.variant),
        h('td', { class: 'num' }, formatBytes(release.artifactBytes)),
        h('td', { class: 'mono' }, release.artifactSha256.slice(0, 12)),
        h('td', {}, new Date(release.createdAt).toLocaleString()),
      ),
    ),
  );
  replace(
    container,
    rows.length === 0
      ? empty('Nothing released yet.')
      : table(['line', 'channel', 'release', 'variant', 'size', 'artifact', 'published'], rows),
  );
}

const SEGMENTS = ['succeeded', 'in_progress', 'failed', 'timed_out', 'pending'];

function waveRow(wave, current, rolloutState) {
  const bar = h('div', { class: 'bar', role: 'progressbar', 'aria-valuenow': Math.round(wave.progress * 100) });
  for (const segment of SEGMENTS) {
    const count = wave.counts[segment];
    if (count === 0 || wave.total === 0) continue;
    const part = h('span', { class: `segment ${segment}`, title: `${count} ${segment.replace('_', ' ')}` });
    part.style.width = `${(count / wave.total) * 100}%`;
    bar.append(part);
  }
  const label =
    wave.percent === null ? `canary: ${wave.devices.join(', ')}` : `${formatNumber(wave.percent, 0)} % of target`;
  return h(
    'div',
    { class: `wave${current ? ' current' : ''}`, 'data-wave': wave.index, 'data-state': wave.state },
    h(
      'div',
      { class: 'wave-head' },
      h('strong', {}, `Wave ${wave.index + 1}`),
      ` ${label} `,
      // A running wave of a paused rollout offers nothing new: say so (data-state keeps the API's word).
      wave.state === 'running' && rolloutState === 'paused'
        ? h('span', { class: 'badge wave-paused' }, 'paused')
        : h('span', { class: `badge wave-${wave.state}` }, wave.state),
    ),
    bar,
    h(
      'div',
      { class: 'counts' },
      SEGMENTS.map((segment) =>
        h(
          'span',
          { class: `count ${segment}`, 'data-count': segment },
          `${segment.replace('_', ' ')} ${wave.counts[segment]}`,
        ),
      ),
      h('span', { class: 'count total', 'data-count': 'total' }, `of ${wave.total}`),
    ),
  );
}

/** Which actions make sense in a state; the API is the judge (it refuses without the scope, too). */
const ACTIONS = {
  running: ['pause', 'abort', 'rollback'],
  awaiting_approval: ['approve', 'pause', 'abort', 'rollback'],
  paused: ['resume', 'abort', 'rollback'],
  completed: ['rollback'],
  aborted: ['rollback'],
  rolled_back: [],
};

export function renderRollouts(container, rollouts, { onAction, messages, unavailable }) {
  if (unavailable !== undefined) return replace(container, empty(unavailable));
  if (rollouts.length === 0) return replace(container, empty('No rollouts: `modelfleet rollouts create …`.'));
  replace(
    container,
    rollouts.map((rollout) => {
      const message = messages.get(rollout.id);
      return h(
        'article',
        { class: 'rollout', 'data-rollout': rollout.id, 'data-state': rollout.state },
        h(
          'h2',
          {},
          `${rollout.line}/${rollout.channel} → release #${rollout.release}`,
          h('span', { class: `badge rollout-${rollout.state}`, 'data-role': 'state' }, rollout.state.replace('_', ' ')),
          rollout.rollbackRelease === null
            ? null
            : h('span', { class: 'muted' }, ` rolled back as #${rollout.rollbackRelease}`),
        ),
        rollout.stateReason === null ? null : h('p', { class: 'reason' }, rollout.stateReason),
        h(
          'p',
          { class: 'muted' },
          `target ${rollout.targetDevices} devices${rollout.tagFilter.length > 0 ? ` tagged ${rollout.tagFilter.join(', ')}` : ''}; ` +
            `success ≥ ${rollout.successThreshold} %; pause at ` +
            [
              rollout.errorThreshold.count === undefined ? null : `${rollout.errorThreshold.count} failures`,
              rollout.errorThreshold.percent === undefined ? null : `${rollout.errorThreshold.percent} % failures`,
            ]
              .filter(Boolean)
              .join(' or ') +
            `; timeout ${rollout.inProgressTimeoutSeconds} s; ${rollout.autoAdvance ? 'advances by itself' : 'waits for approval'}`,
        ),
        rollout.waves.map((wave) => waveRow(wave, wave.index === rollout.currentWave, rollout.state)),
        h(
          'div',
          { class: 'actions' },
          (ACTIONS[rollout.state] ?? []).map((action) =>
            h(
              'button',
              {
                type: 'button',
                'data-action': action,
                class: action === 'abort' || action === 'rollback' ? 'danger' : '',
                onclick: () => onAction(rollout, action),
              },
              action,
            ),
          ),
        ),
        message === undefined
          ? null
          : h('p', { class: message.error ? 'error' : 'ok', role: 'alert', 'data-role': 'message' }, message.text),
      );
    }),
  );
}

export function renderDevices(container, devices) {
  if (devices.length === 0) return replace(container, empty('No devices enrolled.'));
  const rows = devices.map((device) =>
    h(
      'tr',
      {
        'data-device': device.deviceId,
        'data-state': device.state ?? 'none',
        class: device.revokedAt === null ? '' : 'revoked',
      },
      h('td', { class: 'mono' }, device.deviceId),
      h('td', {}, device.line ?? '–', device.channel === null ? '' : ` / ${device.channel}`),
      h('td', {}, device.tags.join(', ')),
      h('td', { class: 'num', 'data-role': 'release' }, device.release === null ? '–' : `#${device.release}`),
      h('td', { class: 'num', 'data-role': 'pin' }, device.pinnedRelease === null ? '–' : `#${device.pinnedRelease}`),
      h('td', {}, h('span', { class: `badge device-${device.state ?? 'none'}` }, device.state ?? '–')),
      h('td', {}, formatAgo(device.lastSeenAt)),
      h('td', { class: 'num' }, device.smokeLatencyMs === null ? '–' : `${formatNumber(device.smokeLatencyMs, 1)} ms`),
      h('td', { class: 'error' }, device.lastError ?? ''),
    ),
  );
  replace(
    container,
    table(
      ['device', 'line / channel', 'tags', 'release', 'pinned to', 'state', 'last seen', 'smoke test', 'last error'],
      rows,
    ),
  );
}
