/**
 * theta2 / theta3, full integer with a representative dataset: per-channel symmetric int8 kernels and
 * per-tensor affine int8 activations whose ranges were calibrated on the calibration set (evaluate's
 * `calibrateActivations`). The ranges and the int8 parameters derived from them are stored in
 * model.json `modelfleet` metadata, so evaluate can simulate integer inference from the artifact alone.
 * theta3 marks the input and output as uint8 (integer I/O, as TPUs and microcontrollers need).
 */
import {
  type ActivationRanges,
  type AffineQuantParams,
  type ModelArtifact,
  listLayers,
} from '@modelfleet/model-format';
import { QuantizeInvalidArgument, QuantizeRangesMissing } from './errors.js';
import { perChannelChoice } from './quantizers.js';
import { roundHalfAwayFromZero } from './rounding.js';
import { type QuantizeOptions, transformWeights } from './transform.js';

export interface FullInt8Options extends QuantizeOptions {
  readonly ranges: ActivationRanges;
  /** theta3: uint8 input and output instead of float with quantize/dequantize nodes. */
  readonly integerIo?: boolean;
}

/**
 * TFLite's affine parameters for a calibrated range: the range widened to contain 0, scale =
 * (max - min) / 255, zero point = the integer nearest where 0 falls (half away from zero), clamped.
 * Matches evaluate's `affineParams`, which the simulation uses.
 */
export function affineActivationParams(
  range: { min: number; max: number },
  dtype: 'int8' | 'uint8',
): AffineQuantParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max)
    throw new QuantizeInvalidArgument(`activation range [${range.min}, ${range.max}]`);
  const qmin = dtype === 'int8' ? -128 : 0;
  const qmax = dtype === 'int8' ? 127 : 255;
  const min = Math.min(range.min, 0);
  const max = Math.max(range.max, 0);
  if (max === min) return { dtype, scale: 1, zeroPoint: dtype === 'int8' ? 0 : 128, min: range.min, max: range.max };
  const scale = (max - min) / (qmax - qmin);
  const zeroPoint = Math.min(qmax, Math.max(qmin, roundHalfAwayFromZero(qmin - min / scale)));
  return { dtype, scale, zeroPoint, min: range.min, max: range.max };
}

/** TFLite fixes softmax outputs to scale 1/256 (int8 zero point -128, uint8 zero point 0). */
function softmaxParams(dtype: 'int8' | 'uint8'): AffineQuantParams {
  return { dtype, scale: 1 / 256, zeroPoint: dtype === 'int8' ? -128 : 0, min: 0, max: 255 / 256 };
}

function outputLayerOf(artifact: ModelArtifact): { name: string; softmax: boolean } | undefined {
  const layers = listLayers(artifact.modelJson.modelTopology);
  const config = (artifact.modelJson.modelTopology['config'] ?? {}) as Record<string, unknown>;
  const declared = Array.isArray(config['output_layers'])
    ? (config['output_layers'][0] as unknown[] | undefined)?.[0]
    : undefined;
  const layer = typeof declared === 'string' ? layers.find((l) => l.name === declared) : layers[layers.length - 1];
  if (layer === undefined) return undefined;
  return { name: layer.name, softmax: layer.className === 'Softmax' || layer.config['activation'] === 'softmax' };
}

/**
 * Calibrated ranges re-keyed for the folded model: a conv whose batch norm was folded into it now
 * outputs what the batch norm did, so it takes the batch norm's range; ranges of layers the model no
 * longer has are dropped.
 */
export function rangesAfterFolding(
  ranges: ActivationRanges,
  folded: ReadonlyMap<string, string>,
  layerNames: ReadonlySet<string>,
): ActivationRanges {
  const layers: Record<string, { min: number; max: number }> = {};
  for (const [name, range] of Object.entries(ranges.layers))
    if (layerNames.has(name) && !layers[name]) layers[name] = range;
  for (const [bn, producer] of folded) {
    const range = ranges.layers[bn];
    if (range !== undefined) layers[producer] = range;
  }
  return { ...ranges, layers };
}

export function quantizeFullInt8(artifact: ModelArtifact, options: FullInt8Options): ModelArtifact {
  const integerIo = options.integerIo === true;
  const variant = integerIo ? 'theta3' : 'theta2';
  const { ranges } = options;
  if (ranges === undefined || ranges.layers === undefined || ranges.input === undefined)
    throw new QuantizeRangesMissing(variant);
  const ioType = integerIo ? 'uint8' : 'int8';
  const inputQuantization = { ...affineActivationParams(ranges.input, ioType), integerInput: integerIo };
  return transformWeights(artifact, variant, options, perChannelChoice, (folded, model) => {
    const layerNames = new Set(listLayers(model.modelJson.modelTopology).map((l) => l.name));
    const stored = rangesAfterFolding(ranges, folded, layerNames);
    const activationQuantization: Record<string, AffineQuantParams> = {};
    for (const [name, range] of Object.entries(stored.layers))
      activationQuantization[name] = affineActivationParams(range, 'int8');
    const output = outputLayerOf(model);
    const outputRange = output === undefined ? undefined : stored.layers[output.name];
    const outputParams = output?.softmax
      ? softmaxParams(ioType)
      : outputRange !== undefined
        ? affineActivationParams(outputRange, ioType)
        : undefined;
    return {
      activationRanges: stored,
      activationQuantization,
      inputQuantization,
      ...(outputParams !== undefined ? { outputQuantization: { ...outputParams, integerOutput: integerIo } } : {}),
    };
  });
}

/** theta3: theta2 with integer (uint8) input and output. */
export function quantizeFullInt8IntegerIo(
  artifact: ModelArtifact,
  options: Omit<FullInt8Options, 'integerIo'>,
): ModelArtifact {
  return quantizeFullInt8(artifact, { ...options, integerIo: true });
}
