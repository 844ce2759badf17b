import { beforeAll, describe, expect, it } from 'vitest';
import { measureLatencies, percentileOfSorted, summariseSamples } from './latency.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { buildTinyModel } from './tiny-model.fixture.js';

let runtime: EvalRuntime;
beforeAll(async () => {
  runtime = await createRuntime();
});

describe('latency', () => {
  it('summarises samples: median (mean of the middle pair), nearest-rank p90, min', () => {
    expect(summariseSamples([5, 1, 4, 2, 3])).toEqual({ medianMs: 3, p90Ms: 5, minMs: 1 });
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summariseSamples(hundred)).toEqual({ medianMs: 50.5, p90Ms: 90, minMs: 1 });
    expect(percentileOfSorted([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
    expect(() => summariseSamples([])).toThrow(expect.objectContaining({ code: 'MF_ERR_EVAL_INVALID_ARGUMENT' }));
  });

  it('times every model the requested number of runs on both clocks', async () => {
    const { tf } = runtime;
    const models = [buildTinyModel(tf), buildTinyModel(tf)];
    const image = tf.zeros([1, 2, 2, 3]) as Parameters<typeof measureLatencies>[2];
    const reports = await measureLatencies(tf, models, image, { warmupRuns: 2, runs: 9 });
    expect(reports).toHaveLength(2);
    for (const report of reports) {
      expect(report).toMatchObject({ runs: 9, warmupRuns: 2, clock: 'cpu' });
      expect(report.medianMs).toBe(report.cpu.medianMs);
      expect(report.wall.medianMs).toBeGreaterThan(0);
      expect(report.wall.p90Ms).toBeGreaterThanOrEqual(report.wall.medianMs);
      expect(report.cpu.p90Ms).toBeGreaterThanOrEqual(report.cpu.minMs);
    }
    const wall = await measureLatencies(tf, models.slice(0, 1), image, { warmupRuns: 0, runs: 3, clock: 'wall' });
    expect(wall[0]!.medianMs).toBe(wall[0]!.wall.medianMs);
  });

  it('refuses a batch of more than one image and a zero run count', async () => {
    const { tf } = runtime;
    const model = buildTinyModel(tf);
    await expect(
      measureLatencies(tf, [model], tf.zeros([2, 2, 2, 3]) as Parameters<typeof measureLatencies>[2]),
    ).rejects.toMatchObject({
      code: 'MF_ERR_EVAL_INVALID_ARGUMENT',
    });
    await expect(
      measureLatencies(tf, [model], tf.zeros([1, 2, 2, 3]) as Parameters<typeof measureLatencies>[2], { runs: 0 }),
    ).rejects.toMatchObject({
      code: 'MF_ERR_EVAL_INVALID_ARGUMENT',
    });
  });
});
