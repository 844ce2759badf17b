import type { Candidate, ModelVersion } from '@modelfleet/contracts';
import { formatFixed, formatKilobytes } from './format.js';
import { renderTable, type Column } from './table.js';

function eligibility(candidate: Candidate): string {
  if (candidate.eligible) return 'yes';
  return candidate.ineligibleReason === null ? 'no' : `no: ${candidate.ineligibleReason}`;
}

/**
 * The candidate table, as the study prints it and extended: which accuracy figures come from a
 * simulation of integer kernels (`sim`), latency median/p90, file and wire size, the objective L,
 * whether the policy's constraints admit the candidate, and the winner (`*`).
 */
export function renderCandidateTable(candidates: readonly Candidate[]): string {
  const withTrain = candidates.some((candidate) => candidate.trainAccuracy !== null);
  const columns: Column<Candidate>[] = [
    { header: ' ', value: (c) => (c.winner ? '*' : ' ') },
    { header: 'variant', value: (c) => c.variant },
    { header: 'encoding', value: (c) => c.encoding },
    { header: 'acc %', align: 'right', value: (c) => formatFixed(c.accuracy, 2) },
    ...(withTrain
      ? [{ header: 'train %', align: 'right' as const, value: (c: Candidate) => formatFixed(c.trainAccuracy, 2) }]
      : []),
    { header: 'sim', value: (c) => (c.accuracySimulated ? 'sim' : '') },
    {
      header: 'ms med/p90',
      align: 'right',
      value: (c) => `${formatFixed(c.latencyMedianMs, 2)}/${formatFixed(c.latencyP90Ms, 2)}`,
    },
    { header: 'file KB', align: 'right', value: (c) => formatKilobytes(c.fileBytes) },
    { header: 'wire KB', align: 'right', value: (c) => formatKilobytes(c.wireBytes) },
    { header: 'L', align: 'right', value: (c) => formatFixed(c.objective, 3) },
    { header: 'eligible', value: eligibility },
  ];
  return renderTable(columns, candidates);
}

/** The table, the winner and the reason, and the footnote on simulated figures when one applies. */
export function renderVersionReport(version: ModelVersion): string {
  const parts: string[] = [];
  if (version.candidates.length > 0) parts.push(renderCandidateTable(version.candidates));
  else parts.push('no candidates yet\n');
  if (version.candidates.some((candidate) => candidate.accuracySimulated)) {
    parts.push('sim: accuracy from a faithful simulation of integer kernels, not measured on int8 hardware\n');
  }
  if (version.selection !== null) {
    const winner = version.selection.winnerVariant ?? 'none';
    parts.push(`winner: ${winner}\nreason: ${version.selection.reason}\n`);
  }
  if (version.releaseNumbers.length > 0) {
    parts.push(
      `released: ${version.releaseNumbers.map((release) => `${release.channel} #${release.number}`).join(', ')}\n`,
    );
  }
  return parts.join('\n');
}
