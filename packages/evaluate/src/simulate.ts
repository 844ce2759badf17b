import type * as tfTypes from '@tensorflow/tfjs';
import type { BatchClassifier } from './accuracy.js';
import { type AffineParams, SOFTMAX_INT8_PARAMS, affineParams, fakeQuantize } from './affine-int8.js';
import type { ActivationRanges } from './calibrate.js';
import { EvalMissingRange } from './errors.js';
import { type LayerGraph, type LayerStep, layerGraph, runLayerByLayer } from './layer-graph.js';

export interface IntegerSimulationOptions {
  ranges: ActivationRanges;
  /**
   * theta3: the input (and output) tensor is uint8 instead of a float with a quantize node. On the
   * same calibrated range the uint8 grid is the int8 grid shifted by 128 (the TFLite converter
   * derives one from the other), so the arithmetic is identical; the plan records it.
   */
  integerIo?: boolean;
  /**
   * Quantize only where an int8 engine materialises a tensor (default true). The TFLite converter
   * folds BatchNormalization into the preceding convolution and fuses ReLU/ReLU6 into it, so the
   * conv output before batch norm and the batch-norm output before the activation never exist as
   * int8 tensors; Dropout, Flatten, Reshape, ZeroPadding2D and max/average pooling keep their input's
   * quantization (same scale and zero point), so they add no rounding. With `fuse: false` every
   * layer's output is quantized, a stricter (pessimistic) simulation.
   */
  fuse?: boolean;
}

/** Where the simulation rounds, and why — kept with the result so the number can be explained. */
export interface QuantizationPoint {
  /** Layer name (or the input's name). */
  tensor: string;
  className: string;
  /** Affine int8 parameters applied to this tensor, absent when it is not rounded. */
  params?: AffineParams;
  /** 'quantized' | 'fixed-softmax' | 'fused-into <layer>' | 'keeps-input-grid'. */
  treatment: string;
}

const WEIGHTED_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization']);
const SAME_GRID_LAYERS = new Set([
  'Dropout',
  'Flatten',
  'Reshape',
  'ZeroPadding2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'Cropping2D',
]);
const FUSABLE_ACTIVATIONS = new Set(['relu', 'relu6', 'linear']);

function activationOf(step: LayerStep): string | undefined {
  const activation = (step.layer.getConfig() as { activation?: unknown }).activation;
  return typeof activation === 'string' ? activation : undefined;
}

/** The consumer a weighted layer folds into, when the converter would fuse the two. */
function fusedConsumer(graph: LayerGraph, step: LayerStep, byName: Map<string, LayerStep>): LayerStep | undefined {
  if (!WEIGHTED_LAYERS.has(step.className) || (activationOf(step) ?? 'linear') !== 'linear') return undefined;
  const consumers = graph.consumers.get(step.name) ?? [];
  if (consumers.length !== 1 || step.name === graph.outputName) return undefined;
  const consumer = byName.get(consumers[0]!);
  if (consumer === undefined) return undefined;
  if (consumer.className === 'BatchNormalization' && step.className !== 'BatchNormalization') return consumer;
  if (consumer.className === 'ReLU') return consumer;
  if (consumer.className === 'Activation' && FUSABLE_ACTIVATIONS.has(activationOf(consumer) ?? '')) return consumer;
  return undefined;
}

/** Decides, for the input and every layer output, whether and how the simulation rounds it. */
export function quantizationPlan(graph: LayerGraph, options: IntegerSimulationOptions): QuantizationPoint[] {
  const fuse = options.fuse ?? true;
  const byName = new Map(graph.steps.map((step) => [step.name, step]));
  const ioType = options.integerIo === true ? 'uint8' : 'int8';
  const inputParams = affineParams(options.ranges.input, ioType);
  const plan: QuantizationPoint[] = [
    { tensor: graph.inputName, className: 'InputLayer', params: inputParams, treatment: `quantized (${ioType} input)` },
  ];
  for (const step of graph.steps) {
    const isSoftmax = step.className === 'Softmax' || activationOf(step) === 'softmax';
    if (fuse && !isSoftmax) {
      const into = fusedConsumer(graph, step, byName);
      if (into !== undefined) {
        plan.push({ tensor: step.name, className: step.className, treatment: `fused-into ${into.name}` });
        continue;
      }
      if (
        SAME_GRID_LAYERS.has(step.className) ||
        (step.className === 'Activation' && activationOf(step) === 'linear')
      ) {
        plan.push({ tensor: step.name, className: step.className, treatment: 'keeps-input-grid' });
        continue;
      }
    }
    if (isSoftmax) {
      plan.push({
        tensor: step.name,
        className: step.className,
        params: SOFTMAX_INT8_PARAMS,
        treatment: 'fixed-softmax',
      });
      continue;
    }
    const range = options.ranges.layers[step.name];
    if (range === undefined) throw new EvalMissingRange(step.name);
    plan.push({ tensor: step.name, className: step.className, params: affineParams(range), treatment: 'quantized' });
  }
  return plan;
}

export interface IntegerSimulation {
  classify: BatchClassifier;
  plan: QuantizationPoint[];
}

/**
 * Simulated integer inference (theta2/theta3) on a loaded model whose weights are the artifact's
 * decoded ones (per-channel int8 kernels dequantized by model-format): the model runs layer by
 * layer and every tensor the plan marks is quantized to int8 with its calibrated range and
 * dequantized before the next layer reads it. Accuracy from this is `simulated: true`; latency is
 * never derived from it.
 */
export function simulateIntegerInference(
  tf: typeof tfTypes,
  model: tfTypes.LayersModel,
  options: IntegerSimulationOptions,
): IntegerSimulation {
  const graph = layerGraph(model);
  const plan = quantizationPlan(graph, options);
  const params = new Map(
    plan.filter((point) => point.params !== undefined).map((point) => [point.tensor, point.params!]),
  );
  const classify: BatchClassifier = (batch) =>
    runLayerByLayer(graph, batch, (name, output) => {
      const pointParams = params.get(name);
      return pointParams === undefined ? output : fakeQuantize(tf, output, pointParams);
    });
  return { classify, plan };
}
