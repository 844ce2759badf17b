import type * as tfTypes from '@tensorflow/tfjs';
import { EvalInvalidArgument } from './errors.js';

/**
 * Which clock the headline latency (and so T in L) is read from:
 * - 'cpu': CPU time the process spent per run (`process.cpuUsage`, user + system). On a device the
 *   model has the core to itself and wall time equals this. On the shared build machine it is what
 *   stays stable: at load average 9 on 2 cores, three identical MobileNet-0.25 models measured wall
 *   medians of 2.3–4.4 ms but CPU medians of 1.94–2.15 ms (300 round-robin runs each), because a
 *   ~2 ms run is preempted by other processes' time slices about half of the time, which makes the
 *   wall-clock distribution bimodal and its median jump between the modes.
 *   It counts every thread of the process, so run evaluation where nothing else in the process is
 *   busy (a sandboxed job process, a bench), or use 'wall'.
 * - 'wall': elapsed time (`performance.now`), what a user of a dedicated device waits.
 * Both are always recorded.
 */
export type LatencyClock = 'cpu' | 'wall';

export interface LatencyOptions {
  /** Untimed runs first, per model (default 5): the first calls compile kernels and allocate. */
  warmupRuns?: number;
  /** Timed single-image runs per model (default 30). */
  runs?: number;
  /** Clock of `medianMs`/`p90Ms` (default 'cpu'). */
  clock?: LatencyClock;
}

export interface LatencyReport {
  /** Median per-image latency on `clock`. */
  medianMs: number;
  /** 90th percentile (nearest rank) on `clock`. */
  p90Ms: number;
  clock: LatencyClock;
  wall: { medianMs: number; p90Ms: number; minMs: number };
  cpu: { medianMs: number; p90Ms: number; minMs: number };
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

/** Median, p90 and minimum of a set of samples. */
export function summariseSamples(samplesMs: readonly number[]): { medianMs: number; p90Ms: number; minMs: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  if (sorted.length === 0) throw new EvalInvalidArgument('no latency samples');
  return { medianMs: median(sorted), p90Ms: percentileOfSorted(sorted, 90), minMs: sorted[0]! };
}

/**
 * Per-image latency of each model on the runtime: one image in, output read back (a device reads
 * the scores, so the time includes the download of the result). Models are timed round-robin —
 * run r of every model before run r+1 of any — so that load from other processes falls on all
 * candidates alike instead of skewing whichever ran during a spike; T/T0 in L is a ratio of these.
 */
export async function measureLatencies(
  tf: typeof tfTypes,
  models: readonly tfTypes.LayersModel[],
  image: tfTypes.Tensor4D,
  options: LatencyOptions = {},
): Promise<LatencyReport[]> {
  const warmupRuns = options.warmupRuns ?? 5;
  const runs = options.runs ?? 30;
  const clock = options.clock ?? 'cpu';
  if (!Number.isInteger(warmupRuns) || warmupRuns < 0) throw new EvalInvalidArgument(`warmupRuns ${warmupRuns}`);
  if (!Number.isInteger(runs) || runs < 1) throw new EvalInvalidArgument(`runs ${runs}`);
  if (image.shape[0] !== 1) throw new EvalInvalidArgument(`latency input batch ${image.shape[0]} (must be one image)`);
  const once = async (model: tfTypes.LayersModel): Promise<{ wall: number; cpu: number }> => {
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    const output = model.predict(image) as tfTypes.Tensor;
    await output.data();
    const wall = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);
    output.dispose();
    return { wall, cpu: (cpu.user + cpu.system) / 1000 };
  };
  for (const model of models) for (let i = 0; i < warmupRuns; i++) await once(model);
  const wall = models.map(() => [] as number[]);
  const cpu = models.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [index, model] of models.entries()) {
      const sample = await once(model);
      wall[index]!.push(sample.wall);
      cpu[index]!.push(sample.cpu);
    }
  }
  return models.map((_, index) => {
    const wallSummary = summariseSamples(wall[index]!);
    const cpuSummary = summariseSamples(cpu[index]!);
    const headline = clock === 'cpu' ? cpuSummary : wallSummary;
    return {
      medianMs: headline.medianMs,
      p90Ms: headline.p90Ms,
      clock,
      wall: wallSummary,
      cpu: cpuSummary,
      runs,
      warmupRuns,
    };
  });
}
