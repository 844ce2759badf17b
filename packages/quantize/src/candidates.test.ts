import { isModelFleetError } from '@modelfleet/errors';
import {
  type ModelArtifact,
  artifactFiles,
  bundleSha256,
  decodeBundle,
  decodeTensor,
  encodeBundle,
  readArtifact,
} from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { type CandidateVariant, candidateById, candidateSet } from './candidates.js';
import { quantizeFullInt8 } from './full-int8.js';
import {
  clusterWeights,
  pruneAndEntropyCode,
  quantizeDynamicRangeUint8,
  quantizeFloat16,
  quantizePerChannelInt8,
} from './quantizers.js';
import { syntheticDense, syntheticMobileNet } from './testing/synthetic-artifact.js';
import { decisionsOf } from './transform.js';
import type { ActivationRanges } from '@modelfleet/model-format';

const ranges: ActivationRanges = {
  method: 'minmax',
  input: { min: -1, max: 1 },
  layers: {
    conv1: { min: -4, max: 5 },
    conv1_bn: { min: -3, max: 3 },
    conv1_relu: { min: 0, max: 6 },
    conv_dw_1: { min: -7, max: 8 },
    conv_dw_1_bn: { min: -3, max: 4 },
    conv_dw_1_relu: { min: 0, max: 6 },
    conv_pw_1: { min: -9, max: 9 },
    conv_pw_1_bn: { min: -2, max: 5 },
    conv_pw_1_relu: { min: 0, max: 5 },
    global_pool: { min: 0, max: 3 },
    predictions: { min: 0, max: 1 },
  },
};

const run = (c: CandidateVariant, a: ModelArtifact) => c.transform(a, c.needsCalibration ? { ranges } : {});

describe('candidate set', () => {
  it('has the study rows and ours, unique ids', () => {
    const ids = candidateSet.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(
      expect.arrayContaining([
        'theta1',
        'theta2',
        'theta3',
        'theta4',
        'int8-per-channel',
        'palette16',
        'palette256',
        'prune20-rans',
      ]),
    );
    expect(candidateSet.filter((c) => c.needsCalibration).map((c) => c.id)).toEqual(['theta2', 'theta3']);
  });

  for (const candidate of candidateSet) {
    it(`${candidate.id}: valid artifact that round-trips through write -> read -> bundle -> decode`, () => {
      const out = run(candidate, syntheticMobileNet());
      const reread = readArtifact(artifactFiles(out));
      const fromBundle = decodeBundle(encodeBundle(out));
      for (const copy of [reread, fromBundle])
        copy.tensors.forEach((t, i) =>
          expect(Array.from(decodeTensor(t))).toEqual(Array.from(decodeTensor(out.tensors[i]!))),
        );
      expect(bundleSha256(fromBundle)).toBe(bundleSha256(out));
      expect(fromBundle.modelJson.modelfleet?.variant).toBe(candidate.id);
      // deterministic: running again gives the same bytes
      expect(bundleSha256(run(candidate, syntheticMobileNet()))).toBe(bundleSha256(out));
    });

    it(`${candidate.id}: never changes a tensor it was told to leave alone, and records every decision`, () => {
      const source = syntheticMobileNet();
      const skip = ['conv_pw_1/kernel', 'predictions/kernel'];
      const withSkip: Record<string, () => ModelArtifact> = {
        theta1: () => quantizeDynamicRangeUint8(source, { skip }),
        theta2: () => quantizeFullInt8(source, { ranges, skip }),
        theta3: () => quantizeFullInt8(source, { ranges, skip, integerIo: true }),
        theta4: () => quantizeFloat16(source, { skip }),
        'int8-per-channel': () => quantizePerChannelInt8(source, { skip }),
        palette16: () => clusterWeights(source, { entries: 16, skip }),
        palette256: () => clusterWeights(source, { entries: 256, skip }),
        'prune20-rans': () => pruneAndEntropyCode(source, { sparsity: 0.2, skip }),
      };
      const skipped = withSkip[candidate.id]!();
      for (const name of skip) {
        const before = source.tensors.find((t) => t.name === name)!;
        const after = skipped.tensors.find((t) => t.name === name)!;
        expect(Buffer.from(after.bytes).equals(Buffer.from(before.bytes))).toBe(true);
        expect(after.encoding).toEqual(before.encoding);
        expect(decisionsOf(skipped).find((d) => d.tensor === name)).toMatchObject({
          action: 'kept',
          reason: expect.stringMatching(/left alone/),
        });
      }
      const out = run(candidate, source);
      const decisions = decisionsOf(out);
      const outNames = out.tensors.map((t) => t.name);
      // one decision per output tensor, plus one per batch-norm tensor folded away
      expect(decisions.filter((d) => d.action !== 'folded').map((d) => d.tensor)).toEqual(outNames);
      for (const d of decisions) {
        const before = source.tensors.find((t) => t.name === d.tensor);
        const after = out.tensors.find((t) => t.name === d.tensor);
        expect(d.reason.length).toBeGreaterThan(5);
        if (d.action === 'kept') expect(Buffer.from(after!.bytes).equals(Buffer.from(before!.bytes))).toBe(true);
        if (d.action === 'folded')
          expect({ before: before !== undefined, after }).toEqual({ before: true, after: undefined });
        if (d.action === 'rewritten') expect(after!.encoding.kind).toBe('float32');
        if (d.action === 'quantized') expect(after!.encoding.kind).not.toBe('float32');
      }
      // every batch norm sits after a linear conv here, so all are folded, as TFLite does — except for
      // the per-tensor palettes, which keep batch norm (folding spreads channel scales)
      const bnDecisions = decisions.filter((d) => /_bn\//.test(d.tensor));
      expect(bnDecisions).toHaveLength(12);
      if (candidate.id.startsWith('palette'))
        expect(bnDecisions.every((d) => d.action === 'kept' && /batch-norm/.test(d.reason))).toBe(true);
      else expect(bnDecisions.every((d) => d.action === 'folded' && /batch norm folded/.test(d.reason))).toBe(true);
      if (candidate.id !== 'theta4') {
        // biases stay float32, with the reason
        for (const d of decisions.filter((x) => x.tensor.endsWith('/bias'))) {
          expect(['kept', 'rewritten']).toContain(d.action);
          expect(d.encoding).toBe('float32');
          expect(d.reason).toMatch(/bias/);
        }
        const pointwise = decisions.find((d) => d.tensor === 'conv_pw_1/kernel')!;
        // 256 values: a 256-entry palette (1024 bytes of centroids) would not be smaller than float32
        if (candidate.id === 'palette256')
          expect(pointwise).toMatchObject({ action: 'kept', reason: expect.stringMatching(/not less than 1024/) });
        else expect(pointwise.action).toBe('quantized');
      }
    });
  }

  it('without folding, batch-norm parameters stay float32 with the reason', () => {
    const source = syntheticMobileNet();
    const out = quantizePerChannelInt8(source, { foldBatchNorm: false });
    const bnDecisions = decisionsOf(out).filter((d) => /_bn\//.test(d.tensor));
    expect(bnDecisions).toHaveLength(12);
    for (const d of bnDecisions)
      expect(d).toMatchObject({ action: 'kept', encoding: 'float32', reason: expect.stringMatching(/batch-norm/) });
  });

  it('looks variants up by id and refuses unknown ones', () => {
    expect(candidateById('theta1').id).toBe('theta1');
    expect(candidateById('prune30-rans').id).toBe('prune30-rans');
    expect(
      decisionsOf(candidateById('prune30-rans').transform(syntheticDense(), {})).find((d) => d.tensor === 'fc/kernel')
        ?.reason,
    ).toMatch(/30% smallest/);
    for (const bad of ['prune99-rans', 'prune05-rans', 'prune-rans'])
      expect(() => candidateById(bad)).toThrow(expect.objectContaining({ code: 'MF_ERR_QUANTIZE_UNKNOWN_VARIANT' }));
    try {
      candidateById('theta9');
      expect.unreachable();
    } catch (error) {
      expect(isModelFleetError(error) && error.code).toBe('MF_ERR_QUANTIZE_UNKNOWN_VARIANT');
    }
  });
});

describe('theta2 / theta3 metadata', () => {
  it('stores the ranges and the int8 parameters derived from them', () => {
    const theta2 = run(candidateById('theta2'), syntheticMobileNet());
    const meta = theta2.modelJson.modelfleet!;
    // conv1_bn was folded into conv1, so conv1 now outputs what conv1_bn did and takes its range
    expect(meta.activationRanges!.layers['conv1']).toEqual(ranges.layers['conv1_bn']);
    expect(meta.activationRanges!.layers['conv1_bn']).toBeUndefined();
    expect(meta.activationRanges!.layers['conv1_relu']).toEqual(ranges.layers['conv1_relu']);
    expect(meta.activationRanges!.input).toEqual(ranges.input);
    // [-1, 1]: real 0 falls at q = -0.5, rounded half away from zero as TFLite does
    expect(meta.inputQuantization).toMatchObject({ dtype: 'int8', integerInput: false, zeroPoint: -1 });
    expect(meta.inputQuantization!.scale).toBeCloseTo(2 / 255, 12);
    // relu6 output [0, 6]: zero point at -128, scale 6/255
    expect(meta.activationQuantization!['conv1_relu']).toMatchObject({ dtype: 'int8', zeroPoint: -128 });
    expect(meta.activationQuantization!['conv1_relu']!.scale).toBeCloseTo(6 / 255, 12);
    // softmax output: TFLite's fixed 1/256
    expect(meta.outputQuantization).toMatchObject({ scale: 1 / 256, zeroPoint: -128, integerOutput: false });
    const theta3 = run(candidateById('theta3'), syntheticMobileNet());
    expect(theta3.modelJson.modelfleet!.inputQuantization).toMatchObject({
      dtype: 'uint8',
      zeroPoint: 128,
      integerInput: true,
    });
    expect(theta3.modelJson.modelfleet!.outputQuantization).toMatchObject({
      dtype: 'uint8',
      zeroPoint: 0,
      integerOutput: true,
    });
    // kernels per-channel int8
    expect(theta2.tensors.find((t) => t.name === 'conv_dw_1/depthwise_kernel')!.encoding).toMatchObject({
      kind: 'int8-per-channel',
      axis: 2,
    });
  });

  it('refuses to run without ranges, with a specific code', () => {
    for (const id of ['theta2', 'theta3']) {
      try {
        candidateById(id).transform(syntheticMobileNet(), {});
        expect.unreachable();
      } catch (error) {
        expect(isModelFleetError(error) && error.code).toBe('MF_ERR_QUANTIZE_RANGES_MISSING');
      }
    }
  });

  it('metadata of a parent variant does not leak into the next one', () => {
    const theta2 = run(candidateById('theta2'), syntheticMobileNet());
    const again = run(candidateById('theta4'), theta2);
    expect(again.modelJson.modelfleet?.activationRanges).toBeUndefined();
    expect(again.modelJson.modelfleet?.variant).toBe('theta4');
  });
});

describe('sizes', () => {
  it('shrink as expected on a dense kernel', () => {
    const source = syntheticDense();
    const size = (a: ModelArtifact) => a.tensors.reduce((s, t) => s + t.bytes.length, 0);
    const float = size(source);
    const denseRanges: ActivationRanges = {
      method: 'minmax',
      input: { min: -1, max: 1 },
      layers: { fc: { min: -3, max: 3 } },
    };
    const sizes = Object.fromEntries(
      candidateSet.map((c) => [c.id, size(c.transform(source, { ranges: denseRanges })) / float]),
    );
    expect(sizes['theta2']).toBeLessThan(0.27);
    expect(sizes['theta4']).toBeCloseTo(0.5, 2);
    expect(sizes['theta1']).toBeLessThan(0.26);
    expect(sizes['int8-per-channel']).toBeLessThan(0.27);
    expect(sizes['palette16']).toBeLessThan(0.14);
    expect(sizes['prune20-rans']).toBeLessThan(sizes['int8-per-channel']!);
    const half = pruneAndEntropyCode(source, { sparsity: 0.5 });
    expect(size(half) / float).toBeLessThan(sizes['int8-per-channel']! * 0.75);
  });
});
