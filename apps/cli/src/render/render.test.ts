import { describe, expect, it } from 'vitest';
import { candidate, captureOutput, modelVersion } from '../testing/fixtures.js';
import { renderCandidateTable, renderVersionReport } from './candidates.js';
import { formatBytes } from './format.js';
import { createJobProgress, createUploadProgress, renderProgressBar, renderUploadProgress } from './progress.js';
import { describePreprocessing } from './resources.js';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('pads columns to the widest cell and right-aligns numeric columns', () => {
    const text = renderTable(
      [
        { header: 'name', value: (row: { name: string; n: number }) => row.name },
        { header: 'n', align: 'right', value: (row) => String(row.n) },
      ],
      [
        { name: 'a', n: 100 },
        { name: 'longer', n: 7 },
      ],
    );
    expect(text).toBe(['name      n', '------  ---', 'a       100', 'longer    7', ''].join('\n'));
  });
});

describe('formatBytes', () => {
  it('uses binary units with one decimal', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10.0 MiB');
  });
});

describe('describePreprocessing', () => {
  it('writes the pixel transform the way a person reads it', () => {
    expect(describePreprocessing(1 / 127.5, -1)).toBe('x * 0.00784314 - 1');
    expect(describePreprocessing(1 / 255, 0)).toBe('x * 0.00392157 + 0');
  });
});

describe('renderCandidateTable', () => {
  const rows = [
    candidate(),
    candidate({
      id: 'c2',
      variant: 'theta4-float16',
      encoding: 'float16',
      fileBytes: 1_650_688,
      wireBytes: 1_500_000,
      objective: -0.5,
      winner: true,
    }),
    candidate({
      id: 'c3',
      variant: 'theta2-int8-calibrated',
      encoding: 'int8',
      accuracy: 90.26,
      accuracySimulated: true,
      fileBytes: 854_016,
      latencyMedianMs: 47,
      latencyP90Ms: 51,
      objective: 0.39,
      eligible: false,
      ineligibleReason: 'accuracy drop 8.92 > 1 point',
    }),
  ];

  it('prints every figure of every candidate, the winner mark, sim and why a candidate is not eligible', () => {
    const lines = renderCandidateTable(rows).split('\n');
    expect(lines[0]).toMatch(/^\s+variant\s+encoding\s+acc %\s+sim\s+ms med\/p90\s+file KB\s+wire KB\s+L\s+eligible$/);
    const winner = lines.find((line) => line.includes('theta4-float16')) ?? '';
    expect(winner.startsWith('*')).toBe(true);
    expect(winner).toContain('1612.0');
    expect(winner).toContain('-0.500');
    const int8 = lines.find((line) => line.includes('theta2-int8-calibrated')) ?? '';
    expect(int8.startsWith(' ')).toBe(true);
    expect(int8).toMatch(/90\.26\s+sim\s+47\.00\/51\.00\s+834\.0/);
    expect(int8).toContain('no: accuracy drop 8.92 > 1 point');
    expect(lines.find((line) => line.includes('theta0-float32'))).toMatch(
      /99\.18\s+23\.00\/25\.50\s+3200\.0\s+2929\.7\s+0\.000\s+yes$/,
    );
  });

  it('adds the train column only when some candidate has a train accuracy', () => {
    expect(renderCandidateTable(rows)).not.toContain('train %');
    expect(renderCandidateTable([candidate({ trainAccuracy: 99.92 })])).toMatch(/train %[\s\S]*99\.92/);
  });

  it('reports the winner, the reason, the simulation footnote and the releases of a version', () => {
    const text = renderVersionReport(
      modelVersion({
        candidates: rows,
        selection: { winnerVariant: 'theta4-float16', reason: 'lowest L among 2 eligible candidates', details: {} },
        releaseNumbers: [{ channel: 'stable', number: 3 }],
      }),
    );
    expect(text).toContain('winner: theta4-float16\nreason: lowest L among 2 eligible candidates');
    expect(text).toContain('not measured on int8 hardware');
    expect(text).toContain('released: stable #3');
  });
});

describe('progress', () => {
  it('draws a bar proportional to the fraction, clamped', () => {
    expect(renderProgressBar(0.5, 10)).toBe('[#####-----]');
    expect(renderProgressBar(2, 4)).toBe('[####]');
    expect(renderProgressBar(Number.NaN, 4)).toBe('[----]');
  });

  it('shows bytes sent, the total, the percentage and the rate', () => {
    expect(renderUploadProgress(5 * 1024 * 1024, 10 * 1024 * 1024, 2000)).toBe(
      'upload [############------------]  50%  5.0 MiB / 10.0 MiB  2.5 MiB/s',
    );
  });

  it('leaves the rate out during the first half second, where it is noise', () => {
    expect(renderUploadProgress(151, 1000, 10)).toBe('upload [####--------------------]  15%  151 B / 1000 B');
  });

  it('prints one plain line per 10 % step when stderr is not a terminal', () => {
    const sink = captureOutput(false);
    const progress = createUploadProgress(sink, { now: () => 0 });
    for (let sent = 0; sent <= 1000; sent += 10) progress.update(sent, 1000);
    progress.finish();
    const lines = sink.text.trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[10]).toContain('100%');
    expect(sink.text).not.toContain('\r');
  });

  it('redraws one line in place on a terminal, throttled, and always draws 100 %', () => {
    const sink = captureOutput(true);
    let clock = 0;
    const progress = createUploadProgress(sink, { now: () => clock, minIntervalMs: 100 });
    progress.update(100, 1000); // drawn (first)
    clock = 50;
    progress.update(200, 1000); // too soon: skipped
    clock = 150;
    progress.update(300, 1000); // drawn
    clock = 160;
    progress.update(1000, 1000); // final: always drawn
    progress.finish();
    const frames = sink.text.split('\r\x1b[2K').filter((frame) => frame !== '');
    expect(frames).toHaveLength(3);
    expect(frames[1]).toContain(' 30%');
    expect(frames[2]).toContain('100%');
    expect(sink.text.endsWith('\n')).toBe(true);
  });

  it('prints a job line when the status, the stage or the 10 % step changes', () => {
    const sink = captureOutput(false);
    const job = createJobProgress(sink);
    job.update({ status: 'uploaded', progress: { stage: null, percent: 0 } });
    job.update({ status: 'optimizing', progress: { stage: 'decode', percent: 2 } });
    job.update({ status: 'optimizing', progress: { stage: 'decode', percent: 5 } });
    job.update({ status: 'optimizing', progress: { stage: 'evaluate', percent: 41 } });
    job.update({ status: 'optimizing', progress: { stage: 'evaluate', percent: 47 } });
    job.update({ status: 'ready', progress: { stage: 'done', percent: 100 } });
    const lines = sink.text.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toMatch(/^optimizing \[#+-+\] {2}41% {2}evaluate$/);
    expect(lines[3]).toMatch(/^ready/);
  });
});
