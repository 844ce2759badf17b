import { isModelFleetError } from '@modelfleet/errors';
import {
  type ModelArtifact,
  type TensorRecord,
  bundleSha256,
  decodeBundle,
  decodeTensor,
  encodeBundle,
  packFloat32,
} from '@modelfleet/model-format';
import { describe, expect, it } from 'vitest';
import { quantizeOnAffineGrid } from './delta-friendly.js';
import { deltaFriendlyVariant } from './candidates.js';
import { foldBatchNormalization } from './fold-batch-norm.js';
import {
  type DeltaFriendlyOptions,
  deltaReuseOf,
  quantizePerChannelInt8Reusing,
  quantizeUint8Reusing,
} from './delta-friendly.js';
import { quantizeDynamicRangeUint8, quantizePerChannelInt8 } from './quantizers.js';
import { seededRandom, syntheticMobileNet } from './testing/synthetic-artifact.js';
import { decisionsOf } from './transform.js';

const ulpSlack = (v: number) => Math.abs(v) * 2 ** -23;

/** The artifact with every value of the named float32 tensors mapped by `f(value, index)`. */
function editTensors(
  artifact: ModelArtifact,
  f: (value: number, index: number, name: string) => number,
  names?: readonly string[],
): ModelArtifact {
  return {
    ...artifact,
    tensors: artifact.tensors.map((t): TensorRecord => {
      if (t.encoding.kind !== 'float32' || (names !== undefined && !names.includes(t.name))) return t;
      return packFloat32(
        t.name,
        t.shape,
        decodeTensor(t).map((v, i) => f(v, i, t.name)),
      );
    }),
  };
}

const tensor = (a: ModelArtifact, name: string) => a.tensors.find((t) => t.name === name)!;
const decision = (a: ModelArtifact, name: string) => decisionsOf(a).find((d) => d.tensor === name)!;
const quantizedNames = (a: ModelArtifact) =>
  a.tensors.filter((t) => t.encoding.kind === 'affine' || t.encoding.kind === 'int8-per-channel').map((t) => t.name);

/** Fraction of quantized bytes (integers, not side data) equal between two artifacts' tensors of the same name. */
function equalIntegerShare(a: ModelArtifact, b: ModelArtifact): number {
  let equal = 0;
  let total = 0;
  for (const t of a.tensors) {
    const u = tensor(b, t.name);
    const skip = t.encoding.kind === 'int8-per-channel' ? t.encoding.scales.length * 4 : 0;
    if (t.encoding.kind !== 'affine' && t.encoding.kind !== 'int8-per-channel') continue;
    for (let i = skip; i < t.bytes.length; i++) {
      total++;
      if (t.bytes[i] === u.bytes[i]) equal++;
    }
  }
  return equal / total;
}

describe('delta-friendly quantization', () => {
  const base = syntheticMobileNet(3);
  const random = seededRandom(11);
  // a fine-tune: every kernel weight moves by up to 0.2 % of itself, and the largest ones (above 80 % of their
  // tensor's largest magnitude) shrink by 4 %: a fresh range shrinks, the previous one still holds them
  const maxAbs = new Map(base.tensors.map((t) => [t.name, Math.max(...decodeTensor(t).map(Math.abs))]));
  const kernels = base.tensors.map((t) => t.name).filter((name) => name.endsWith('kernel'));
  const tuned = editTensors(
    base,
    (v, _, name) => v * (1 + (random() - 0.5) * 0.004) * (Math.abs(v) > 0.8 * maxAbs.get(name)! ? 0.96 : 1),
    kernels,
  );

  /** Plain rounding on the reused grid, nothing clipped, grids at most twice as coarse as fresh ones. */
  const strict = { clipFraction: 0, maxErrorRatio: 2, keepWithinSteps: 0 };
  for (const [name, plain, reusingWith] of [
    ['theta1+reuse', quantizeDynamicRangeUint8, quantizeUint8Reusing],
    ['int8-per-channel+reuse', quantizePerChannelInt8, quantizePerChannelInt8Reusing],
  ] as const) {
    describe(name, () => {
      const previous = plain(base);
      const reusing = (a: ModelArtifact, p: ModelArtifact, options: DeltaFriendlyOptions = {}) =>
        reusingWith(a, p, { ...strict, ...options });

      it('identical float input gives byte-identical quantized tensors, every range reused', () => {
        const out = reusing(base, previous);
        expect(out.tensors.map((t) => t.name)).toEqual(previous.tensors.map((t) => t.name));
        out.tensors.forEach((t, i) => expect(t.bytes).toEqual(previous.tensors[i]!.bytes));
        expect(out.tensors.map((t) => t.encoding)).toEqual(previous.tensors.map((t) => t.encoding));
        const summary = deltaReuseOf(out)!;
        expect(summary.refreshedTensors).toBe(0);
        expect(summary.reusedTensors).toBe(quantizedNames(out).length);
        expect(summary.reusedRanges).toBe(summary.totalRanges);
        expect(out.modelJson.modelfleet?.variant).toBe(name);
        // and again from its own output (a chain of releases stays put)
        const again = reusing(base, decodeBundle(encodeBundle(out)));
        again.tensors.forEach((t, i) => expect(t.bytes).toEqual(out.tensors[i]!.bytes));
      });

      it('after a small fine-tune: more equal integers than a fresh quantization, error within the previous grid', () => {
        const out = reusing(tuned, previous);
        const fresh = plain(tuned);
        const reusedShare = equalIntegerShare(out, previous);
        const freshShare = equalIntegerShare(fresh, previous);
        expect(reusedShare).toBeGreaterThan(0.9);
        expect(reusedShare).toBeGreaterThan(freshShare + 0.1);
        const folded = foldBatchNormalization(tuned, new Set()).artifact;
        for (const t of out.tensors) {
          const d = decision(out, t.name);
          if (d.action !== 'quantized') continue;
          expect(d.reason).toMatch(/reused/);
          // every value within half a step of the grid (the previous one; per channel possibly rescaled)
          if (t.encoding.kind === 'affine') expect(t.encoding).toEqual(tensor(previous, t.name).encoding);
          const source = decodeTensor(tensor(folded, t.name));
          const step = (i: number) =>
            t.encoding.kind === 'affine'
              ? t.encoding.scale
              : t.encoding.kind === 'int8-per-channel'
                ? t.encoding.scales[i % t.encoding.scales.length]!
                : NaN;
          decodeTensor(t).forEach((v, i) =>
            expect(Math.abs(v - source[i]!)).toBeLessThanOrEqual(step(i) / 2 + ulpSlack(v) + 1e-12),
          );
        }
        expect(deltaReuseOf(out)!.refreshedTensors).toBe(0);
      });

      it('a weight outside the previous range refreshes its range (clipFraction 0)', () => {
        const target = 'conv_pw_1/kernel';
        const grown = editTensors(base, (v, i) => (i === 3 ? 10 * maxAbs.get(target)! : v), [target]);
        const out = reusing(grown, previous);
        const d = decision(out, target);
        expect(d.reason).toMatch(/refreshed/);
        expect(d.reason).toMatch(/outside the previous range/);
        const summary = deltaReuseOf(out)!;
        expect(summary.refreshedTensors).toBe(1);
        expect(summary.reusedTensors).toBe(quantizedNames(out).length - 1);
        // the other tensors are byte for byte the previous ones
        for (const n of quantizedNames(out))
          if (n !== target) expect(tensor(out, n).bytes).toEqual(tensor(previous, n).bytes);
        // the refreshed tensor is the fresh quantization
        expect(tensor(out, target).encoding).toEqual(tensor(plain(grown), target).encoding);
      });

      it('a tensor told to stay float never changes', () => {
        const keep = 'predictions/kernel';
        const out = reusing(tuned, previous, { skip: [keep] });
        expect(tensor(out, keep)).toBe(tensor(tuned, keep));
        expect(decision(out, keep).action).toBe('kept');
      });

      it('a previous tensor of another shape or name lends nothing', () => {
        const renamed: ModelArtifact = {
          ...previous,
          tensors: previous.tensors.map((t) => (t.name === 'conv1/kernel' ? { ...t, name: 'other/kernel' } : t)),
        };
        const out = reusing(base, renamed);
        expect(decision(out, 'conv1/kernel').reason).toMatch(/refreshed: no tensor of that name/);
        const reshaped: ModelArtifact = {
          ...previous,
          tensors: previous.tensors.map((t) => (t.name === 'conv1/kernel' ? { ...t, shape: [1, ...t.shape] } : t)),
        };
        expect(decision(reusing(base, reshaped), 'conv1/kernel').reason).toMatch(/refreshed: shape/);
        // a float previous release has no parameters to lend
        expect(deltaReuseOf(reusing(base, base))!.reusedTensors).toBe(0);
      });

      it('is deterministic and round-trips through the bundle', () => {
        const out = reusing(tuned, previous);
        expect(bundleSha256(decodeBundle(encodeBundle(out)))).toBe(bundleSha256(out));
        expect(bundleSha256(reusing(tuned, previous))).toBe(bundleSha256(out));
      });
    });
  }

  describe('tolerances', () => {
    it('uint8: clipFraction bounds how far outside the range a value may lie; the added error stays within it', () => {
      const unfolded = { foldBatchNorm: false };
      const previous = quantizeDynamicRangeUint8(base, unfolded);
      const target = 'conv_pw_1/kernel';
      const old = tensor(previous, target).encoding;
      if (old.kind !== 'affine') throw new Error('expected affine');
      const hi = old.min + 255 * old.scale;
      const width = 255 * old.scale;
      // one value just above the range by 1 % of its width
      const over = (by: number) => editTensors(base, (v, i) => (i === 0 ? hi + by * width : v), [target]);
      const source = decodeTensor(tensor(over(0.01), target));
      expect(decision(quantizeUint8Reusing(over(0.01), previous, { ...unfolded, ...strict }), target).reason).toMatch(
        /refreshed/,
      );
      const clipped = quantizeUint8Reusing(over(0.01), previous, {
        ...unfolded,
        clipFraction: 0.02,
        maxErrorRatio: 100,
      });
      expect(decision(clipped, target).reason).toMatch(/reused.*clipped/);
      const t = tensor(clipped, target);
      expect(t.encoding).toEqual(old);
      decodeTensor(t).forEach((v, i) =>
        expect(Math.abs(v - source[i]!)).toBeLessThanOrEqual(
          (i === 0 ? 0.01 * width : 0) + old.scale / 2 + ulpSlack(v) + 1e-12,
        ),
      );
      const tooFar = quantizeUint8Reusing(over(0.03), previous, {
        ...unfolded,
        clipFraction: 0.02,
        maxErrorRatio: 100,
      });
      expect(decision(tooFar, target).reason).toMatch(/refreshed/);
    });

    it('per-channel: only the channel that overshoots is refreshed; maxErrorRatio refuses a much coarser grid', () => {
      const previous = quantizePerChannelInt8(base);
      const target = 'conv_pw_1/kernel';
      const c = tensor(previous, target).shape.at(-1)!;
      // the largest weight of channel 5 grows tenfold: no grid keeping its integers spans it
      const raw = decodeTensor(tensor(base, target));
      let top = 5;
      for (let i = 5; i < raw.length; i += c) if (Math.abs(raw[i]!) > Math.abs(raw[top]!)) top = i;
      const grown = editTensors(base, (v, i) => (i === top ? v * 10 : v), [target]);
      const out = quantizePerChannelInt8Reusing(grown, previous, strict);
      expect(decision(out, target).reason).toMatch(new RegExp(`reused for ${c - 1} of ${c} channels, 1 refreshed`));
      const enc = tensor(out, target).encoding;
      const oldEnc = tensor(previous, target).encoding;
      const freshEnc = tensor(quantizePerChannelInt8(grown), target).encoding;
      if (enc.kind !== 'int8-per-channel' || oldEnc.kind !== 'int8-per-channel' || freshEnc.kind !== 'int8-per-channel')
        throw new Error('expected int8-per-channel');
      enc.scales.forEach((s, k) => expect(s).toBe(k === 5 ? freshEnc.scales[k] : oldEnc.scales[k]));
      // channel 7 gets other, ten times smaller weights (channel 6's, scaled): the previous grid is far
      // coarser than a fresh one, and no rescaled grid keeps its integers
      const shrunk = editTensors(base, (v, i) => (i % c === 7 ? raw[i - 1]! * 0.1 : v), [target]);
      expect(decision(quantizePerChannelInt8Reusing(shrunk, previous, strict), target).reason).toMatch(
        /1 error above 2 x fresh/,
      );
    });

    it('per-channel: a channel rescaled as a whole (a changed batch-norm factor) keeps every integer on a rescaled grid', () => {
      const previous = quantizePerChannelInt8(base, { foldBatchNorm: false });
      const target = 'conv_pw_1/kernel';
      const c = tensor(previous, target).shape.at(-1)!;
      const factor = (k: number) => 1 + 0.01 * (k % 7) - 0.03; // -3 % .. +3 %, channel by channel
      const rescaled = editTensors(base, (v, i) => v * factor(i % c), [target]);
      const keep = { ...strict, keepWithinSteps: 1, foldBatchNorm: false };
      const out = quantizePerChannelInt8Reusing(rescaled, previous, keep);
      const t = tensor(out, target);
      const oldEnc = tensor(previous, target).encoding;
      if (t.encoding.kind !== 'int8-per-channel' || oldEnc.kind !== 'int8-per-channel') throw new Error('int8');
      expect(t.bytes.subarray(c * 4)).toEqual(tensor(previous, target).bytes.subarray(c * 4));
      expect(decision(out, target).reason).toMatch(/reused for all 32 channels \(\d+ rescaled.*100 % of integers kept/);
      const source = decodeTensor(tensor(rescaled, target));
      const scales = t.encoding.scales;
      scales.forEach((s, k) => expect(s / oldEnc.scales[k]!).toBeCloseTo(factor(k), 2));
      // within one step (keepWithinSteps 1: the rescaled grid is a least-squares fit, not exact)
      decodeTensor(t).forEach((v, i) =>
        expect(Math.abs(v - source[i]!)).toBeLessThanOrEqual(scales[i % c]! + ulpSlack(v) + 1e-12),
      );
      // the unchanged channel (factor 1) keeps the previous scale exactly
      expect(scales[3]).toBe(oldEnc.scales[3]);
    });

    it('keepWithinSteps keeps the previous integer of every weight within that many steps, and no other', () => {
      const unfolded = { foldBatchNorm: false };
      const previous = quantizeDynamicRangeUint8(base, unfolded);
      const target = 'conv_pw_1/kernel';
      const old = tensor(previous, target);
      if (old.encoding.kind !== 'affine') throw new Error('affine');
      const { scale, min } = old.encoding;
      const drift = seededRandom(5);
      // every weight moves by up to 1.5 steps either way
      const moved = editTensors(base, (v) => v + (drift() * 2 - 1) * 1.5 * scale, [target]);
      const source = decodeTensor(tensor(moved, target));
      for (const keep of [0, 1, 2]) {
        const out = quantizeUint8Reusing(moved, previous, { ...unfolded, clipFraction: 0.05, keepWithinSteps: keep });
        const t = tensor(out, target);
        expect(t.encoding).toEqual(old.encoding);
        let kept = 0;
        t.bytes.forEach((q, i) => {
          const previousValue = old.bytes[i]! * scale + min;
          const within = Math.abs(previousValue - source[i]!) <= keep * scale;
          if (keep > 0 && within) expect(q).toBe(old.bytes[i]);
          if (q === old.bytes[i]) kept++;
          else expect(q).toBe(quantizeOnAffineGrid(source.subarray(i, i + 1), scale, min)[0]);
          // error bound: the larger of half a step and the keep distance, plus what clipping adds
          const overshoot = Math.max(0, min - source[i]!, source[i]! - (min + 255 * scale));
          expect(Math.abs(q * scale + min - source[i]!)).toBeLessThanOrEqual(
            Math.max(0.5, keep) * scale + overshoot + 1e-9,
          );
        });
        if (keep === 2) expect(kept / t.bytes.length).toBeGreaterThan(0.95);
        if (keep === 0) expect(kept / t.bytes.length).toBeLessThan(0.5);
      }
    });

    it('refuses nonsense tolerances with a specific error', () => {
      const previous = quantizePerChannelInt8(base);
      for (const bad of [
        { clipFraction: -0.1 },
        { clipFraction: 0.9 },
        { maxErrorRatio: 0.5 },
        { maxErrorRatio: NaN },
      ]) {
        try {
          quantizePerChannelInt8Reusing(base, previous, bad);
          expect.unreachable();
        } catch (error) {
          expect(isModelFleetError(error) && error.code).toBe('MF_ERR_QUANTIZE_INVALID_ARGUMENT');
        }
      }
    });
  });

  it('deltaFriendlyVariant wraps both as candidates bound to the previous artifact', () => {
    const previous = quantizePerChannelInt8(base);
    const variant = deltaFriendlyVariant('int8-per-channel+reuse', previous, { clipFraction: 0.01 });
    expect(variant.needsCalibration).toBe(false);
    const out = variant.transform(base, {});
    expect(deltaReuseOf(out)).toMatchObject({ clipFraction: 0.01, refreshedTensors: 0 });
    expect(deltaFriendlyVariant('theta1+reuse', quantizeDynamicRangeUint8(base)).transform(base, {}).tensors).toEqual(
      quantizeDynamicRangeUint8(base).tensors,
    );
  });
});
