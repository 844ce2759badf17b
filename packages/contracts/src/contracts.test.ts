import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import { CreateModelLineBody, ErrorResponse, OptimizationPolicy, ReleaseManifest, VARIANTS } from './index.js';

describe('wire schemas', () => {
  it('fills an empty policy with the documented defaults: every variant, 1-point accuracy constraint, auto-publish to stable', () => {
    const policy = Value.Default(OptimizationPolicy, {}) as OptimizationPolicy;
    expect(Value.Check(OptimizationPolicy, policy)).toBe(true);
    expect(policy).toMatchObject({
      variants: [...VARIANTS],
      weights: { size: 1, latency: 1, accuracy: 1 },
      constraints: { maxAccuracyDropPoints: 1 },
      autoPublish: true,
      channel: 'stable',
    });
  });

  it('refuses line names that would not be safe in a URL and unknown variants', () => {
    const body = { name: 'Sorter/../x', preprocessing: { inputSize: [64, 64], classNames: ['a', 'b'] } };
    expect(Value.Check(CreateModelLineBody, Value.Default(CreateModelLineBody, structuredClone(body)))).toBe(false);
    expect(Value.Check(OptimizationPolicy, Value.Default(OptimizationPolicy, { variants: ['theta9'] }))).toBe(false);
  });

  it('keeps error codes in the MF_ERR_ form and manifests bound to their schema id', () => {
    expect(Value.Check(ErrorResponse, { statusCode: 404, code: 'MF_ERR_X', error: 'Not Found', message: 'x' })).toBe(
      true,
    );
    expect(Value.Check(ErrorResponse, { statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: 'x' })).toBe(
      false,
    );
    const manifest = {
      schema: 'modelfleet.release/v1',
      line: 'sorter',
      channel: 'stable',
      release: 1,
      artifact: { sha256: 'a'.repeat(64), size: 10, encoding: 'float16', variant: 'theta4' },
      preprocessing: { inputSize: [64, 64], scale: 1, offset: 0, classNames: ['a', 'b'] },
      createdAt: '2026-11-29T00:00:00.000Z',
    };
    expect(Value.Check(ReleaseManifest, manifest)).toBe(true);
    expect(Value.Check(ReleaseManifest, { ...manifest, schema: 'other/v1' })).toBe(false);
  });
});
