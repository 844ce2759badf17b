/**
 * Delta-friendly quantization: quantize a new float artifact of a line reusing the quantization
 * parameters of the line's previous release wherever the new weights still fit them, so that weights
 * which did not move (or barely moved) map to the very same integers and a tensor-aware delta between
 * the two releases finds long runs of equal bytes. Quantizing old and new independently moves every
 * integer, because every scale changes a little.
 *
 *   quantizeUint8Reusing(float, previous, tolerance?)          theta1+reuse: per-tensor uint8 {scale, min}
 *   quantizePerChannelInt8Reusing(float, previous, tolerance?) int8-per-channel+reuse: per-channel int8 scales
 *
 * A previous tensor is reused when it has the same name, shape and a compatible encoding (uint8 affine
 * for the first; int8 per-channel or pruned rANS int8 along the same axis for the second), and
 * - every new value lies inside the previous grid's range (its ends plus half a step: values that round
 *   onto the grid), or outside it by at most `clipFraction` x the range's width (such values are
 *   clipped to the range), and
 * - the largest absolute error with the previous grid is at most `maxErrorRatio` x that of a fresh
 *   quantization of the same values (a previous grid that is much coarser than needed is not reused).
 * Per tensor (uint8) or per channel (int8); otherwise the tensor or channel gets fresh parameters. The
 * path taken and why is recorded in the tensor's decision, and totals in `modelfleet.deltaReuse`.
 */
import {
  type ModelArtifact,
  type TensorRecord,
  channelCount,
  decodeTensor,
  packAffine,
  packInt8PerChannel,
} from '@modelfleet/model-format';
import { quantizeAffineUint8 } from './affine-uint8.js';
import { QuantizeInvalidArgument } from './errors.js';
import { quantizeSymmetricPerChannel } from './per-channel-int8.js';
import { roundHalfAwayFromZero } from './rounding.js';
import { type QuantizeOptions, transformWeights } from './transform.js';
import type { TensorPlan } from './weight-plan.js';

export interface ReuseTolerance {
  /**
   * How far a new value may lie outside the previous range, as a fraction of that range's width; such
   * values are clipped to the range (default 0.02; 0: every value must fit).
   */
  readonly clipFraction?: number;
  /**
   * Reuse a grid only when its largest rounding error is at most this multiple of the largest error of
   * a fresh quantization of the same values (default 10; at least 1; clipping counts).
   */
  readonly maxErrorRatio?: number;
  /**
   * Keep the previous integer of a weight when the new value is within this many grid steps of it
   * (default 2; 0: plain rounding on the reused grid). 1 keeps every weight that moved by less than
   * about half a step, at a worst-case error of one step instead of half a step; 2 at two steps.
   */
  readonly keepWithinSteps?: number;
}

/**
 * Defaults measured on the demo base -> full fine-tune successor (pipeline's bench:delta-friendly):
 * per-channel int8 delta 21 % of the full file instead of 37 %, test accuracy within a point.
 */
export const DEFAULT_REUSE_TOLERANCE: Required<ReuseTolerance> = {
  clipFraction: 0.02,
  maxErrorRatio: 10,
  keepWithinSteps: 2,
};

export interface DeltaFriendlyOptions extends QuantizeOptions, ReuseTolerance {}

/** Totals of one delta-friendly quantization, stored in model.json `modelfleet.deltaReuse`. */
export interface DeltaReuseSummary extends Required<ReuseTolerance> {
  /** Quantized tensors that kept the previous grid everywhere (per channel: every channel). */
  readonly reusedTensors: number;
  /** Quantized tensors that got some fresh parameters (partly reused ones included). */
  readonly refreshedTensors: number;
  /** Quantization grids (uint8: one per tensor; int8: one per channel) reused / in total. */
  readonly reusedRanges: number;
  readonly totalRanges: number;
  /** int8: channels whose reused grid was rescaled to follow a changed batch-norm factor. */
  readonly rescaledRanges: number;
  /** Quantized integers equal to the previous release's, of all quantized integers. */
  readonly keptIntegers: number;
  readonly totalIntegers: number;
}

export const DELTA_FRIENDLY_VARIANT_IDS = ['theta1+reuse', 'int8-per-channel+reuse'] as const;
export type DeltaFriendlyVariantId = (typeof DELTA_FRIENDLY_VARIANT_IDS)[number];

function toleranceOf(options: ReuseTolerance): Required<ReuseTolerance> {
  const clipFraction = options.clipFraction ?? DEFAULT_REUSE_TOLERANCE.clipFraction;
  const maxErrorRatio = options.maxErrorRatio ?? DEFAULT_REUSE_TOLERANCE.maxErrorRatio;
  const keepWithinSteps = options.keepWithinSteps ?? DEFAULT_REUSE_TOLERANCE.keepWithinSteps;
  if (!(clipFraction >= 0 && clipFraction <= 0.5))
    throw new QuantizeInvalidArgument(`clipFraction ${clipFraction} (0 <= x <= 0.5)`);
  if (!(maxErrorRatio >= 1 && Number.isFinite(maxErrorRatio)))
    throw new QuantizeInvalidArgument(`maxErrorRatio ${maxErrorRatio} (finite, >= 1)`);
  if (!(keepWithinSteps >= 0 && keepWithinSteps <= 2))
    throw new QuantizeInvalidArgument(`keepWithinSteps ${keepWithinSteps} (0 <= x <= 2)`);
  return { clipFraction, maxErrorRatio, keepWithinSteps };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Why a previous tensor cannot lend its parameters (undefined when it can, structurally). */
function mismatch(previous: TensorRecord | undefined, plan: TensorPlan, kinds: readonly string[]): string | undefined {
  if (previous === undefined) return 'no tensor of that name in the previous release';
  if (!sameShape(previous.shape, plan.tensor.shape))
    return `shape [${plan.tensor.shape.join(',')}] differs from the previous [${previous.shape.join(',')}]`;
  if (!kinds.includes(previous.encoding.kind))
    return `previous encoding ${previous.encoding.kind} has no such parameters`;
  return undefined;
}

/** Largest |q * scale + min - v| over the values (float64; the same for both grids compared). */
function affineError(values: Float32Array, scale: number, min: number, q: Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) worst = Math.max(worst, Math.abs(q[i]! * scale + min - values[i]!));
  return worst;
}

/**
 * Quantize `values` on a given uint8 affine grid (clipped to [0, 255]), as quantizeAffineUint8 does
 * on its own grid, so equal values and equal parameters give equal integers.
 */
export function quantizeOnAffineGrid(values: Float32Array, scale: number, min: number): Uint8Array {
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    q[i] = Math.max(0, Math.min(255, roundHalfAwayFromZero((values[i]! - min) / scale)));
  return q;
}

/** How far the values reach outside [lo, hi] (0 when inside). */
function overshoot(values: Float32Array, lo: number, hi: number): number {
  let worst = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) worst = Math.max(worst, lo - v);
    else if (v > hi) worst = Math.max(worst, v - hi);
  }
  return worst;
}

const fmt = (x: number) => x.toPrecision(3);
const percent = (part: number, whole: number) => `${whole === 0 ? 0 : Math.round((part / whole) * 100)} %`;

/** theta1+reuse: per-tensor uint8 affine, the previous release's {scale, min} where the new tensor fits it. */
export function quantizeUint8Reusing(
  artifact: ModelArtifact,
  previous: ModelArtifact,
  options: DeltaFriendlyOptions = {},
): ModelArtifact {
  const tolerance = toleranceOf(options);
  const old = new Map(previous.tensors.map((t) => [t.name, t]));
  let reused = 0;
  let refreshed = 0;
  let keptIntegers = 0;
  let totalIntegers = 0;
  return transformWeights(
    artifact,
    'theta1+reuse',
    options,
    (plan) => {
      const t = plan.tensor;
      const values = decodeTensor(t);
      const fresh = quantizeAffineUint8(values);
      totalIntegers += values.length;
      const freshRecord = (why: string) => {
        refreshed++;
        return {
          record: packAffine(t.name, t.shape, { bits: 8, scale: fresh.scale, min: fresh.min }, fresh.q),
          reason: `${plan.role}: uint8 affine, fresh range (refreshed: ${why})`,
        };
      };
      const before = old.get(t.name);
      const structural = mismatch(before, plan, ['affine']);
      if (structural !== undefined) return freshRecord(structural);
      const encoding = before!.encoding;
      if (encoding.kind !== 'affine' || encoding.bits !== 8) return freshRecord('previous tensor is not uint8 affine');
      const { scale, min } = encoding;
      const lo = min;
      const hi = min + 255 * scale;
      // values within half a step of the grid's ends round onto it without clipping
      const out = overshoot(values, lo - scale / 2, hi + scale / 2);
      const allowed = tolerance.clipFraction * (hi - lo);
      if (out > allowed)
        return freshRecord(
          `a value lies ${fmt(out)} outside the previous range [${fmt(lo)}, ${fmt(hi)}], more than the ${fmt(allowed)} allowed`,
        );
      const q = quantizeOnAffineGrid(values, scale, min);
      const errorGrid = affineError(values, scale, min, q);
      const errorFresh = affineError(values, fresh.scale, fresh.min, fresh.q);
      if (errorGrid > tolerance.maxErrorRatio * errorFresh + 1e-12)
        return freshRecord(
          `max error ${fmt(errorGrid)} with the previous range > ${tolerance.maxErrorRatio} x ${fmt(errorFresh)} fresh`,
        );
      // the previous integers, read back from the previous tensor's values on the same grid
      const oldValues = decodeTensor(before!);
      let kept = 0;
      for (let i = 0; i < values.length; i++) {
        const qOld = Math.max(0, Math.min(255, roundHalfAwayFromZero((oldValues[i]! - min) / scale)));
        if (qOld !== q[i] && Math.abs(qOld * scale + min - values[i]!) <= tolerance.keepWithinSteps * scale)
          q[i] = qOld;
        if (q[i] === qOld) kept++;
      }
      reused++;
      keptIntegers += kept;
      const errorReused = affineError(values, scale, min, q);
      return {
        record: packAffine(t.name, t.shape, { bits: 8, scale, min }, q),
        reason:
          `${plan.role}: uint8 affine, previous release's range reused, ${percent(kept, q.length)} of integers kept ` +
          `(max error ${fmt(errorReused)}, fresh ${fmt(errorFresh)}` +
          (out > 0 ? `, values clipped by up to ${fmt(out)})` : ')'),
      };
    },
    () => ({
      deltaReuse: {
        ...tolerance,
        reusedTensors: reused,
        refreshedTensors: refreshed,
        reusedRanges: reused,
        totalRanges: reused + refreshed,
        rescaledRanges: 0,
        keptIntegers,
        totalIntegers,
      } satisfies DeltaReuseSummary,
    }),
  );
}

/**
 * int8-per-channel+reuse: symmetric per-channel int8 on the previous grid of every channel the new
 * weights fit. Per channel two grids are tried: the previous scale, and the previous scale rescaled by
 * the least-squares ratio between the new values and the previous integers (a changed batch-norm
 * factor, folded into the kernel, rescales a whole channel: the rescaled grid keeps its integers where
 * the previous scale would move all of them). The grid keeping more previous integers wins (ties: the
 * previous scale, so identical input gives identical bytes).
 */
export function quantizePerChannelInt8Reusing(
  artifact: ModelArtifact,
  previous: ModelArtifact,
  options: DeltaFriendlyOptions = {},
): ModelArtifact {
  const tolerance = toleranceOf(options);
  const old = new Map(previous.tensors.map((t) => [t.name, t]));
  let reusedTensors = 0;
  let refreshedTensors = 0;
  let reusedRanges = 0;
  let rescaledRanges = 0;
  let totalRanges = 0;
  let keptIntegers = 0;
  let totalIntegers = 0;
  return transformWeights(
    artifact,
    'int8-per-channel+reuse',
    options,
    (plan) => {
      const t = plan.tensor;
      const axis = plan.channelAxis;
      const values = decodeTensor(t);
      const n = values.length;
      const c = channelCount(t.shape, axis);
      const fresh = quantizeSymmetricPerChannel(values, t.shape, axis);
      totalRanges += c;
      totalIntegers += n;
      const before = old.get(t.name);
      let why = mismatch(before, plan, ['int8-per-channel', 'sparse-rans']);
      const encoding = before?.encoding;
      if (why === undefined && (encoding?.kind === 'int8-per-channel' || encoding?.kind === 'sparse-rans')) {
        if (encoding.axis !== axis) why = `previous channel axis ${encoding.axis} differs from ${axis}`;
        else if (encoding.scales.length !== c) why = `previous has ${encoding.scales.length} scales, not ${c}`;
      }
      if (why !== undefined) {
        refreshedTensors++;
        return {
          record: packInt8PerChannel(t.name, t.shape, axis, fresh.scales, fresh.q),
          reason: `${plan.role}: int8 per-channel along axis ${axis}, fresh scales (refreshed: ${why})`,
        };
      }
      const oldScales = Float32Array.from((encoding as { scales: readonly number[] }).scales);
      const oldValues = decodeTensor(before!);
      const qOld = new Int8Array(n);
      for (let i = 0; i < n; i++) {
        const s = oldScales[i % c]!;
        qOld[i] = s === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfAwayFromZero(oldValues[i]! / s)));
      }
      const scales = new Float32Array(c);
      const q = new Int8Array(n);
      const reasons = new Map<string, number>();
      const note = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      let kept = 0;
      let reusedHere = 0;
      let rescaledHere = 0;
      const candidate = new Int8Array(n);
      for (let k = 0; k < c; k++) {
        let errorFresh = 0;
        let maxAbs = 0;
        let vq = 0;
        let qq = 0;
        for (let i = k; i < n; i += c) {
          errorFresh = Math.max(errorFresh, Math.abs(fresh.q[i]! * fresh.scales[k]! - values[i]!));
          maxAbs = Math.max(maxAbs, Math.abs(values[i]!));
          vq += values[i]! * qOld[i]!;
          qq += qOld[i]! * qOld[i]!;
        }
        const grids = [oldScales[k]!];
        const fitted = Math.fround(qq > 0 ? vq / qq : 0);
        if (fitted > 0 && fitted !== oldScales[k]) grids.push(fitted);
        let best: { scale: number; kept: number } | undefined;
        let refusal = '';
        for (const s of grids) {
          const edge = 127.5 * s; // half a step past the last grid point still rounds onto it
          if (maxAbs - edge > tolerance.clipFraction * 254 * s) {
            refusal ||= 'values outside the previous range';
            continue;
          }
          let errorGrid = 0;
          let keptHere = 0;
          for (let i = k; i < n; i += c) {
            const v = values[i]!;
            let qi = s === 0 ? 0 : Math.max(-127, Math.min(127, roundHalfAwayFromZero(v / s)));
            errorGrid = Math.max(errorGrid, Math.abs(qi * s - v));
            if (qi !== qOld[i] && Math.abs(qOld[i]! * s - v) <= tolerance.keepWithinSteps * s) qi = qOld[i]!;
            candidate[i] = qi;
            if (qi === qOld[i]) keptHere++;
          }
          if (errorGrid > tolerance.maxErrorRatio * errorFresh + 1e-12) {
            refusal ||= `error above ${tolerance.maxErrorRatio} x fresh`;
            continue;
          }
          if (best === undefined || keptHere > best.kept) {
            best = { scale: s, kept: keptHere };
            for (let i = k; i < n; i += c) q[i] = candidate[i]!;
          }
        }
        if (best === undefined) {
          note(refusal);
          scales[k] = fresh.scales[k]!;
          for (let i = k; i < n; i += c) {
            q[i] = fresh.q[i]!;
            if (q[i] === qOld[i]) kept++;
          }
        } else {
          scales[k] = best.scale;
          kept += best.kept;
          reusedHere++;
          if (best.scale !== oldScales[k]) rescaledHere++;
        }
      }
      reusedRanges += reusedHere;
      rescaledRanges += rescaledHere;
      keptIntegers += kept;
      if (reusedHere === c) reusedTensors++;
      else refreshedTensors++;
      const detail = [...reasons.entries()].map(([reason, count]) => `${count} ${reason}`).join(', ');
      const rescaled = rescaledHere > 0 ? ` (${rescaledHere} rescaled to follow the channel's new magnitude)` : '';
      const path =
        reusedHere === c
          ? `previous grid reused for all ${c} channels${rescaled}`
          : reusedHere === 0
            ? `fresh scales for all ${c} channels (refreshed: ${detail})`
            : `previous grid reused for ${reusedHere} of ${c} channels${rescaled}, ${c - reusedHere} refreshed (${detail})`;
      return {
        record: packInt8PerChannel(t.name, t.shape, axis, scales, q),
        reason: `${plan.role}: int8 per-channel along axis ${axis}, ${path}; ${percent(kept, n)} of integers kept`,
      };
    },
    () => ({
      deltaReuse: {
        ...tolerance,
        reusedTensors,
        refreshedTensors,
        reusedRanges,
        totalRanges,
        rescaledRanges,
        keptIntegers,
        totalIntegers,
      } satisfies DeltaReuseSummary,
    }),
  );
}

/** The totals a delta-friendly quantizer recorded (undefined for any other artifact). */
export function deltaReuseOf(artifact: ModelArtifact): DeltaReuseSummary | undefined {
  return artifact.modelJson.modelfleet?.['deltaReuse'] as DeltaReuseSummary | undefined;
}
