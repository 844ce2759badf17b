import type { ModelVersion } from '@modelfleet/contracts';
import { formatBytes } from './format.js';

/** Where progress goes (stderr): a terminal gets one line redrawn in place, anything else plain lines. */
export interface ProgressSink {
  write(text: string): void;
  readonly isTTY: boolean;
}

/** "[#########-----------]" for fraction 0.45 at width 20; clamped to [0, 1]. */
export function renderProgressBar(fraction: number, width = 24): string {
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

function percentOf(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
}

/** "upload [#####---]  42%  4.2 MiB / 10.0 MiB  3.1 MiB/s" (the rate once half a second has passed: before, it is noise). */
export function renderUploadProgress(sentBytes: number, totalBytes: number, elapsedMs?: number): string {
  const percent = percentOf(sentBytes, totalBytes);
  const rate =
    elapsedMs !== undefined && elapsedMs >= 500 ? `  ${formatBytes(Math.round((sentBytes * 1000) / elapsedMs))}/s` : '';
  return `upload ${renderProgressBar(sentBytes / Math.max(1, totalBytes))} ${String(percent).padStart(3)}%  ${formatBytes(sentBytes)} / ${formatBytes(totalBytes)}${rate}`;
}

/** "optimizing [####----]  40%  evaluate" — the job's status, its stage and the server's percentage. */
export function renderJobProgress(version: Pick<ModelVersion, 'status' | 'progress'>): string {
  const percent = Math.min(100, Math.max(0, Math.floor(version.progress.percent)));
  const stage = version.progress.stage ?? '';
  return `${version.status.padEnd(10)} ${renderProgressBar(percent / 100)} ${String(percent).padStart(3)}%  ${stage}`.trimEnd();
}

export interface ProgressLine {
  /** Shows `text`; on a non-terminal only when `step` differs from the last shown one, so logs stay short. */
  show(text: string, step: string, options?: { force?: boolean }): void;
  /** Ends the line on a terminal (the last state stays visible). */
  finish(): void;
}

/**
 * One progress line. On a terminal it is redrawn in place (`\r` + erase line), at most every
 * `minIntervalMs` unless forced; elsewhere each new step is its own plain line.
 */
export function createProgressLine(
  sink: ProgressSink,
  options: { now?: () => number; minIntervalMs?: number } = {},
): ProgressLine {
  const now = options.now ?? Date.now;
  const minIntervalMs = options.minIntervalMs ?? 100;
  let lastStep: string | undefined;
  let lastDrawAt = Number.NEGATIVE_INFINITY;
  let lastText: string | undefined;
  let drawn = false;
  return {
    show(text, step, showOptions) {
      if (sink.isTTY) {
        const at = now();
        if (text === lastText || (!showOptions?.force && at - lastDrawAt < minIntervalMs)) return;
        sink.write(`\r\x1b[2K${text}`);
        lastDrawAt = at;
        lastText = text;
        drawn = true;
        return;
      }
      if (step === lastStep) return;
      sink.write(`${text}\n`);
      lastStep = step;
    },
    finish() {
      if (sink.isTTY && drawn) sink.write('\n');
      drawn = false;
    },
  };
}

/** Upload progress: redrawn on a terminal, one plain line per 10 % otherwise. */
export function createUploadProgress(sink: ProgressSink, options: { now?: () => number; minIntervalMs?: number } = {}) {
  const now = options.now ?? Date.now;
  const line = createProgressLine(sink, { ...options, now });
  const startedAt = now();
  return {
    update(sentBytes: number, totalBytes: number): void {
      const done = sentBytes >= totalBytes;
      const step = String(Math.floor(percentOf(sentBytes, totalBytes) / 10));
      line.show(renderUploadProgress(sentBytes, totalBytes, now() - startedAt), step, { force: done });
    },
    finish: () => line.finish(),
  };
}

/** The optimize job's progress: a new plain line when the status, the stage or the 10 % step changes. */
export function createJobProgress(sink: ProgressSink, options: { now?: () => number; minIntervalMs?: number } = {}) {
  const line = createProgressLine(sink, { minIntervalMs: 0, ...options });
  return {
    update(version: Pick<ModelVersion, 'status' | 'progress'>): void {
      const step = `${version.status}|${version.progress.stage ?? ''}|${Math.floor(version.progress.percent / 10)}`;
      line.show(renderJobProgress(version), step);
    },
    finish: () => line.finish(),
  };
}
