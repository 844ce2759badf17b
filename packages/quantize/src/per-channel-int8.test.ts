import { channelCount, decodeTensor, elementCount } from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { quantizeAffineUint8 } from './affine-uint8.js';
import { quantizeSymmetricPerChannel } from './per-channel-int8.js';
import { quantizeDynamicRangeUint8, quantizePerChannelInt8 } from './quantizers.js';
import { seededRandom, syntheticMobileNet } from './testing/synthetic-artifact.js';

/** float32 rounding of q * scale adds at most half an ulp of the result. */
const ulpSlack = (v: number) => Math.abs(v) * 2 ** -23;

describe('per-channel symmetric int8', () => {
  it('max abs error per channel is at most scale/2, scale = max|w_c|/127', () => {
    const random = seededRandom(5);
    const shape = [3, 3, 4, 6];
    const c = 6;
    // channel k spans 10^-3 .. 10^2
    const values = Float32Array.from(
      { length: elementCount(shape) },
      (_, i) => (random() * 2 - 1) * 10 ** ((i % c) - 3),
    );
    const { scales, q } = quantizeSymmetricPerChannel(values, shape, 3);
    expect(scales.length).toBe(c);
    const maxAbs = new Float64Array(c);
    values.forEach((v, i) => (maxAbs[i % c] = Math.max(maxAbs[i % c]!, Math.abs(v))));
    for (let k = 0; k < c; k++) expect(scales[k]).toBe(Math.fround(maxAbs[k]! / 127));
    const worst = new Float64Array(c);
    values.forEach((v, i) => {
      expect(Math.abs(q[i]!)).toBeLessThanOrEqual(127);
      const decoded = Math.fround(q[i]! * scales[i % c]!);
      const error = Math.abs(decoded - v);
      expect(error).toBeLessThanOrEqual(scales[i % c]! / 2 + ulpSlack(v));
      worst[i % c] = Math.max(worst[i % c]!, error / scales[i % c]!);
    });
    // the bound is nearly attained: the test would notice a coarser grid
    for (let k = 0; k < c; k++) expect(worst[k]).toBeGreaterThan(0.3);
  });

  it('depthwise kernels [h,w,in,mult] get one scale per input channel (x mult), not one per tensor', () => {
    const artifact = syntheticMobileNet();
    const out = quantizePerChannelInt8(artifact, { foldBatchNorm: false });
    const dw = out.tensors.find((t) => t.name === 'conv_dw_1/depthwise_kernel')!;
    expect(dw.encoding).toMatchObject({ kind: 'int8-per-channel', axis: 2 });
    expect(dw.encoding.kind === 'int8-per-channel' && dw.encoding.scales.length).toBe(8);
    const original = decodeTensor(artifact.tensors.find((t) => t.name === dw.name)!);
    const decoded = decodeTensor(dw);
    const scales = dw.encoding.kind === 'int8-per-channel' ? dw.encoding.scales : [];
    // channels of magnitude 0.01 survive with ~1% error, where a per-tensor grid (step ~ 10/127) flattens them to 0
    original.forEach((v, i) => expect(Math.abs(decoded[i]! - v)).toBeLessThanOrEqual(scales[i % 8]! / 2 + ulpSlack(v)));
    const smallChannel = Array.from(original).filter((_, i) => i % 8 === 0);
    const perTensor = quantizeAffineUint8(original);
    const smallChannelPerTensor = smallChannel.map(
      (v) => Math.round((v - perTensor.min) / perTensor.scale) * perTensor.scale + perTensor.min,
    );
    expect(smallChannelPerTensor.every((v) => Math.abs(v) < 1e-6)).toBe(true); // the study's failure
    const smallDecoded = Array.from(decoded).filter((_, i) => i % 8 === 0);
    expect(smallDecoded.some((v) => v !== 0)).toBe(true);
  });

  it('conv and dense kernels use the last (output) axis', () => {
    const out = quantizePerChannelInt8(syntheticMobileNet());
    for (const name of ['conv1/kernel', 'conv_pw_1/kernel', 'predictions/kernel']) {
      const t = out.tensors.find((x) => x.name === name)!;
      expect(t.encoding).toMatchObject({ kind: 'int8-per-channel', axis: t.shape.length - 1 });
      expect(channelCount(t.shape, t.shape.length - 1)).toBe(t.shape[t.shape.length - 1]);
    }
  });
});

describe('theta1 per-tensor uint8', () => {
  it('error is at most scale/2 and zero is exact', () => {
    const out = quantizeDynamicRangeUint8(syntheticMobileNet(), { foldBatchNorm: false });
    const source = syntheticMobileNet();
    for (const t of out.tensors) {
      if (t.encoding.kind !== 'affine') continue;
      const { scale } = t.encoding;
      const original = decodeTensor(source.tensors.find((x) => x.name === t.name)!);
      decodeTensor(t).forEach((v, i) =>
        expect(Math.abs(v - original[i]!)).toBeLessThanOrEqual(scale / 2 + ulpSlack(v) + 1e-12),
      );
      const zero = Math.round(-t.encoding.min / scale);
      expect(Math.fround(zero * scale + t.encoding.min)).toBe(0);
    }
    expect(out.tensors.filter((t) => t.encoding.kind === 'affine').length).toBe(4);
  });
});
