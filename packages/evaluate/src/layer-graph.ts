import type * as tfTypes from '@tensorflow/tfjs';
import { EvalInvalidArgument } from './errors.js';

type LayersModel = tfTypes.LayersModel;
type Layer = tfTypes.layers.Layer;
type Tensor = tfTypes.Tensor;

/** One layer application: the names of the layers whose outputs feed it, in call order. */
export interface LayerStep {
  layer: Layer;
  name: string;
  className: string;
  inputs: string[];
}

/** A single-input, single-output model as an ordered list of layer applications. */
export interface LayerGraph {
  /** Name of the model's input (its InputLayer). */
  inputName: string;
  steps: LayerStep[];
  outputName: string;
  /** Layer name -> names of the layers consuming its output. */
  consumers: Map<string, string[]>;
}

/**
 * Lists the layers of a loaded TF.js LayersModel in execution order. `model.layers` is already
 * topologically sorted by tfjs-layers (Container sorts by node depth); Sequential models leave the
 * InputLayer out of `layers` (their first layer reads the inner model's InputLayer, whose name then
 * becomes `inputName`), functional ones include it, so InputLayers are recognised by class.
 */
export function layerGraph(model: LayersModel): LayerGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new EvalInvalidArgument(`model with ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  const steps: LayerStep[] = [];
  const produced = new Set<string>();
  const consumers = new Map<string, string[]>();
  let inputName: string | undefined;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') {
      inputName = layer.name;
      continue;
    }
    if (layer.inboundNodes.length !== 1) {
      throw new EvalInvalidArgument(
        `layer ${layer.name} is called ${layer.inboundNodes.length} times (shared layers are not supported)`,
      );
    }
    const node = layer.inboundNodes[0]!;
    const inputs = node.inboundLayers.map((inbound) => inbound.name);
    for (const input of inputs) {
      if (!produced.has(input)) {
        if (inputName !== undefined && input !== inputName) {
          throw new EvalInvalidArgument(`layer ${layer.name} reads ${input} before it is computed`);
        }
        inputName = input;
      }
      consumers.set(input, [...(consumers.get(input) ?? []), layer.name]);
    }
    steps.push({ layer, name: layer.name, className: layer.getClassName(), inputs });
    produced.add(layer.name);
  }
  // `model.outputs[0].sourceLayer`, not `model.outputLayers`: a Sequential model sets `outputs` as
  // layers are added but mirrors `outputLayers`/`inputLayers` from its inner model only in `build()`,
  // which runs lazily on the first predict/compile (tfjs-layers 4.22 dist/models.js, Sequential.build).
  // A Sequential just loaded from a `class_name: 'Sequential'` topology therefore has none, and every
  // Sequential upload failed here with "model has no layers".
  const outputName = model.outputs[0]?.sourceLayer.name;
  if (inputName === undefined || outputName === undefined || steps.length === 0) {
    throw new EvalInvalidArgument('model has no layers');
  }
  if (!produced.has(outputName)) {
    throw new EvalInvalidArgument(`model output ${outputName} is not computed by any layer`);
  }
  return { inputName, steps, outputName, consumers };
}

/**
 * Runs the graph eagerly, one layer at a time, calling `transform` on the input and on every
 * layer's output before it is handed on (identity when it returns the tensor unchanged). Call
 * inside `tf.tidy`: intermediate tensors are left to the caller's scope.
 */
export function runLayerByLayer(
  graph: LayerGraph,
  input: Tensor,
  transform: (name: string, output: Tensor) => Tensor = (_name, output) => output,
): Tensor {
  const outputs = new Map<string, Tensor>();
  outputs.set(graph.inputName, transform(graph.inputName, input));
  for (const step of graph.steps) {
    const args = step.inputs.map((name) => {
      const tensor = outputs.get(name);
      if (tensor === undefined) throw new EvalInvalidArgument(`layer ${step.name} input ${name} missing`);
      return tensor;
    });
    const result = step.layer.apply(args.length === 1 ? args[0]! : args, { training: false });
    if (Array.isArray(result) || !('dataSync' in result)) {
      throw new EvalInvalidArgument(`layer ${step.name} did not return one tensor`);
    }
    outputs.set(step.name, transform(step.name, result as Tensor));
  }
  const output = outputs.get(graph.outputName);
  if (output === undefined) throw new EvalInvalidArgument('model produced no output');
  return output;
}
