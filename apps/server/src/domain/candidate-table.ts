import type { Candidate, ModelVersion } from '@modelfleet/contracts';

interface Column {
  header: string;
  value(candidate: Candidate): string;
}

const fixed = (value: number | null, digits: number) => (value === null ? '' : value.toFixed(digits));
const kilobytes = (value: unknown) => (typeof value === 'number' ? fixed(value / 1000, 1) : '');

const COLUMNS: Column[] = [
  { header: 'variant', value: (c) => c.variant },
  { header: 'encoding', value: (c) => c.encoding },
  { header: 'test acc %', value: (c) => fixed(c.accuracy, 2) },
  { header: 'accuracy is', value: (c) => (c.accuracySimulated ? 'simulated' : 'measured') },
  { header: 'train acc %', value: (c) => fixed(c.trainAccuracy, 2) },
  { header: 'ms/image median', value: (c) => fixed(c.latencyMedianMs, 2) },
  { header: 'ms/image p90', value: (c) => fixed(c.latencyP90Ms, 2) },
  { header: 'file KB', value: (c) => fixed(c.fileBytes / 1000, 1) },
  { header: 'wire KB', value: (c) => fixed(c.wireBytes / 1000, 1) },
  // what moving the channel's fleet to it costs (deltas from the installed artifacts, capped at the full file)
  { header: 'fleet wire KB', value: (c) => kilobytes(c.metrics['fleetWireBytes']) },
  { header: 'L', value: (c) => fixed(c.objective, 3) },
  { header: 'eligible', value: (c) => (c.eligible ? 'yes' : `no: ${c.ineligibleReason ?? ''}`) },
  { header: 'chosen', value: (c) => (c.winner ? '*' : '') },
];

/** The candidate table as a people-readable markdown page: the table, then the decision and why. */
export function candidateTableMarkdown(version: ModelVersion): string {
  const lines = [
    `# ${version.line} version ${version.id}`,
    '',
    `status: ${version.status}${version.progress.stage === null ? '' : ` (${version.progress.stage}, ${version.progress.percent.toFixed(0)} %)`}`,
    '',
    `| ${COLUMNS.map((column) => column.header).join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...version.candidates.map(
      (candidate) => `| ${COLUMNS.map((column) => column.value(candidate).replace(/\|/g, '\\|')).join(' | ')} |`,
    ),
    '',
    'L = S/S0 + T/T0 - A/A0 - 1 against the float32 original (size, per-image latency, test accuracy); lower is better.',
    'Accuracy marked simulated comes from simulating integer kernels on TF.js; latency is always measured on the TF.js runtime.',
    "Fleet wire: bytes to move the channel's devices to the candidate by delta (per installed artifact, capped at the full wire size).",
  ];
  if (version.selection !== null) lines.push('', `decision: ${version.selection.reason}`);
  if (version.error !== null) lines.push('', `error ${version.error.code}: ${version.error.message}`);
  return `${lines.join('\n')}\n`;
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function candidateTableCsv(version: ModelVersion): string {
  const rows = [
    COLUMNS.map((column) => column.header),
    ...version.candidates.map((c) => COLUMNS.map((column) => column.value(c))),
  ];
  return `${rows.map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}
