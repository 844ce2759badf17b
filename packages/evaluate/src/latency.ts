import type * as tfTypes from '@tensorflow/tfjs';
import { EvalInvalidArgument } from './errors.js';

export interface LatencyOptions {
  /** Untimed runs first, per model (default 5): the first calls compile kernels and allocate. */
  warmupRuns?: number;
  /** Timed single-image runs per model (default 30). */
  runs?: number;
}

export interface LatencyReport {
  medianMs: number;
  p90Ms: number;
  minMs: number;
  runs: number;
  warmupRuns: number;
}

/** Median of sorted values (mean of the two middle ones for an even count). */
function median(sorted: readonly number[]): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Nearest-rank percentile of sorted values. */
export function percentileOfSorted(sorted: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function summariseLatency(samplesMs: readonly number[], warmupRuns: number): LatencyReport {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  if (sorted.length === 0) throw new EvalInvalidArgument('no latency samples');
  return { medianMs: median(sorted), p90Ms: percentileOfSorted(sorted, 90), minMs: sorted[0]!, runs: sorted.length, warmupRuns };
}

/**
 * Per-image latency of each model on the runtime: one image in, output read back (a device reads
 * the scores, so the time includes the download of the result). Models are timed round-robin —
 * run r of every model before run r+1 of any — so that load from other processes on this shared
 * 2-core machine falls on all candidates alike instead of skewing whichever ran during a spike;
 * T/T0 in L is a ratio of these numbers.
 */
export async function measureLatencies(
  tf: typeof tfTypes,
  models: readonly tfTypes.LayersModel[],
  image: tfTypes.Tensor4D,
  options: LatencyOptions = {},
): Promise<LatencyReport[]> {
  const warmupRuns = options.warmupRuns ?? 5;
  const runs = options.runs ?? 30;
  if (!Number.isInteger(warmupRuns) || warmupRuns < 0) throw new EvalInvalidArgument(`warmupRuns ${warmupRuns}`);
  if (!Number.isInteger(runs) || runs < 1) throw new EvalInvalidArgument(`runs ${runs}`);
  if (image.shape[0] !== 1) throw new EvalInvalidArgument(`latency input batch ${image.shape[0]} (must be one image)`);
  const once = async (model: tfTypes.LayersModel): Promise<number> => {
    const started = performance.now();
    const output = model.predict(image) as tfTypes.Tensor;
    await output.data();
    const elapsed = performance.now() - started;
    output.dispose();
    return elapsed;
  };
  for (const model of models) for (let i = 0; i < warmupRuns; i++) await once(model);
  const samples = models.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [index, model] of models.entries()) samples[index]!.push(await once(model));
  }
  return samples.map((modelSamples) => summariseLatency(modelSamples, warmupRuns));
}
