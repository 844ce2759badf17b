import type { ApiKeyInfo, Dataset, ModelLine, ModelVersion, Release } from '@modelfleet/contracts';
import { formatBytes, formatTimestamp, shortHash } from './format.js';
import { renderFields, renderTable } from './table.js';

function inputSize(line: ModelLine): string {
  const [height, width] = line.preprocessing.inputSize;
  return `${height}x${width}`;
}

/** "x * 0.00784314 - 1": what a device does to each pixel, in six significant digits. */
export function describePreprocessing(scale: number, offset: number): string {
  const number = (value: number): string => String(Number(value.toPrecision(6)));
  return `x * ${number(scale)} ${offset < 0 ? '-' : '+'} ${number(Math.abs(offset))}`;
}

export function renderModelLineList(lines: readonly ModelLine[]): string {
  if (lines.length === 0) return 'no model lines yet; create one with `modelfleet models create`\n';
  return renderTable(
    [
      { header: 'name', value: (line: ModelLine) => line.name },
      { header: 'classes', align: 'right', value: (line) => String(line.preprocessing.classNames.length) },
      { header: 'input', value: inputSize },
      { header: 'variants', align: 'right', value: (line) => String(line.policy.variants.length) },
      { header: 'max drop', align: 'right', value: (line) => String(line.policy.constraints.maxAccuracyDropPoints) },
      { header: 'auto-publish', value: (line) => (line.policy.autoPublish ? `yes (${line.policy.channel})` : 'no') },
      { header: 'created', value: (line) => formatTimestamp(line.createdAt) },
    ],
    lines,
  );
}

export function renderModelLine(line: ModelLine): string {
  const { preprocessing, policy } = line;
  return renderFields([
    ['name', line.name],
    ['id', line.id],
    ['created', formatTimestamp(line.createdAt)],
    ['input size', `${inputSize(line)} (height x width)`],
    ['preprocessing', describePreprocessing(preprocessing.scale, preprocessing.offset)],
    ['classes', preprocessing.classNames.join(', ')],
    ['variants', policy.variants.join(', ')],
    ['weights', `size ${policy.weights.size}, latency ${policy.weights.latency}, accuracy ${policy.weights.accuracy}`],
    ['max accuracy drop', `${policy.constraints.maxAccuracyDropPoints} points`],
    ['auto-publish', policy.autoPublish ? `yes, to ${policy.channel}` : `no (channel ${policy.channel})`],
    ['latency runs', String(policy.latencyRuns)],
  ]);
}

function classCounts(dataset: Dataset): string {
  return Object.entries(dataset.classCounts)
    .map(([name, count]) => `${name}=${count}`)
    .join(' ');
}

export function renderDatasetList(datasets: readonly Dataset[]): string {
  if (datasets.length === 0) return 'no datasets yet; add one with `modelfleet datasets add`\n';
  return renderTable(
    [
      { header: 'id', value: (dataset: Dataset) => dataset.id },
      { header: 'role', value: (dataset) => dataset.role },
      { header: 'name', value: (dataset) => dataset.name ?? '-' },
      { header: 'samples', align: 'right', value: (dataset) => String(dataset.sampleCount) },
      { header: 'per class', value: classCounts },
      { header: 'sha256', value: (dataset) => shortHash(dataset.sha256) },
      { header: 'created', value: (dataset) => formatTimestamp(dataset.createdAt) },
    ],
    datasets,
  );
}

export function renderDataset(dataset: Dataset): string {
  return renderFields([
    ['id', dataset.id],
    ['role', dataset.role],
    ['name', dataset.name ?? '-'],
    ['samples', String(dataset.sampleCount)],
    ['per class', classCounts(dataset)],
    ['sha256', dataset.sha256],
  ]);
}

export function renderReleaseList(releases: readonly Release[]): string {
  if (releases.length === 0) return 'no releases yet\n';
  return renderTable(
    [
      { header: 'channel', value: (release: Release) => release.channel },
      { header: '#', align: 'right', value: (release) => String(release.number) },
      { header: 'variant', value: (release) => release.variant },
      { header: 'size', align: 'right', value: (release) => formatBytes(release.artifactBytes) },
      { header: 'sha256', value: (release) => shortHash(release.artifactSha256) },
      { header: 'candidate', value: (release) => release.candidateId },
      { header: 'created', value: (release) => formatTimestamp(release.createdAt) },
    ],
    releases,
  );
}

export function renderRelease(release: Release): string {
  return renderFields([
    ['release', `${release.line} ${release.channel} #${release.number}`],
    ['variant', release.variant],
    ['artifact', `${release.artifactSha256} (${formatBytes(release.artifactBytes)})`],
    ['candidate', release.candidateId],
    ['signed by', release.manifest.signatures.map((signature) => signature.keyId).join(', ')],
    ['created', formatTimestamp(release.createdAt)],
  ]);
}

export function renderVersionList(versions: readonly ModelVersion[]): string {
  if (versions.length === 0) return 'no versions yet; upload one with `modelfleet upload`\n';
  return renderTable(
    [
      { header: 'id', value: (version: ModelVersion) => version.id },
      { header: 'status', value: (version) => version.status },
      {
        header: 'progress',
        value: (version) => `${Math.floor(version.progress.percent)}% ${version.progress.stage ?? ''}`.trim(),
      },
      { header: 'winner', value: (version) => version.selection?.winnerVariant ?? '-' },
      { header: 'size', align: 'right', value: (version) => formatBytes(version.sourceBytes) },
      { header: 'created', value: (version) => formatTimestamp(version.createdAt) },
    ],
    versions,
  );
}

export function renderApiKeyList(keys: readonly ApiKeyInfo[]): string {
  if (keys.length === 0) return 'no API keys\n';
  return renderTable(
    [
      { header: 'prefix', value: (key: ApiKeyInfo) => key.prefix },
      { header: 'name', value: (key) => key.name },
      { header: 'scopes', value: (key) => key.scopes.join(',') },
      { header: 'created', value: (key) => formatTimestamp(key.createdAt) },
      { header: 'revoked', value: (key) => formatTimestamp(key.revokedAt) },
    ],
    keys,
  );
}
