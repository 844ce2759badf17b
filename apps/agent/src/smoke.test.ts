import { decodeBundle } from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { SmokeTestFailed } from './errors.js';
import { checkSmokeOutput, smokeTest } from './smoke.js';
import { demoBundle, nanBundle, wrongShapeBundle } from './testing/fixtures.js';

describe('smoke test on TF.js wasm', () => {
  it('passes the demo model and measures its latency', async () => {
    const bundle = demoBundle();
    const result = await smokeTest(decodeBundle(bundle.bytes), bundle.preprocessing);
    expect(result.outputShape).toEqual([1, 5]);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('catches NaN outputs', async () => {
    const bundle = nanBundle();
    await expect(smokeTest(decodeBundle(bundle.bytes), bundle.preprocessing)).rejects.toSatisfy(
      (error) => SmokeTestFailed.is(error) && /NaN/.test((error as Error).message),
    );
  });

  it('catches an output shape that is not [1, classNames.length]', async () => {
    const bundle = wrongShapeBundle();
    await expect(smokeTest(decodeBundle(bundle.bytes), bundle.preprocessing)).rejects.toSatisfy(
      (error) => SmokeTestFailed.is(error) && /\[1, 5\].*\[1, 6\]/.test((error as Error).message),
    );
  });

  it("catches a model whose input does not take the line's frame size", async () => {
    const bundle = demoBundle();
    const preprocessing = { ...bundle.preprocessing, inputSize: [96, 96] as [number, number] };
    await expect(smokeTest(decodeBundle(bundle.bytes), preprocessing)).rejects.toSatisfy((error) =>
      SmokeTestFailed.is(error),
    );
  });

  it('checkSmokeOutput: shape and finiteness rules', () => {
    expect(() => checkSmokeOutput([1, 3], [0.1, 0.2, 0.7], 3)).not.toThrow();
    expect(() => checkSmokeOutput([1, 3], [0.1, Infinity, 0.7], 3)).toThrow(/Infinity/);
    expect(() => checkSmokeOutput([2, 3], [0, 0, 0, 0, 0, 0], 3)).toThrow(/shape/);
    expect(() => checkSmokeOutput([3], [0, 0, 0], 3)).toThrow(/shape/);
  });
});
