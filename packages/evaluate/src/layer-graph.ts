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

const CONTAINER_CLASSES: ReadonlySet<string> = new Set(['Sequential', 'Model', 'Functional']);

/** The graph being assembled, shared by the model and the containers nested in it. */
interface GraphBuilder {
  steps: LayerStep[];
  produced: Set<string>;
  consumers: Map<string, string[]>;
  /** Names that stand for another tensor: a nested model's own input, or the nested model itself. */
  alias: Map<string, string>;
  inputName: string | undefined;
}

function isContainer(layer: Layer): layer is Layer & LayersModel {
  return CONTAINER_CLASSES.has(layer.getClassName()) && Array.isArray((layer as Partial<LayersModel>).layers);
}

/**
 * The name a layer's input refers to in the flat graph. A name nothing has produced yet is the
 * model's input: at the top, it becomes `inputName` (a Sequential model's hidden InputLayer); inside
 * a nested model, it is the tensor the nested model was called on (`outerInput`).
 */
function resolveInput(graph: GraphBuilder, reader: string, name: string, outerInput: string | undefined): string {
  const resolved = graph.alias.get(name) ?? name;
  if (graph.produced.has(resolved) || resolved === graph.inputName) return resolved;
  if (outerInput !== undefined) {
    graph.alias.set(name, outerInput);
    return outerInput;
  }
  if (graph.inputName !== undefined) {
    throw new EvalInvalidArgument(`layer ${reader} reads ${name} before it is computed`);
  }
  graph.inputName = resolved;
  return resolved;
}

/** Adds `model`'s layers in order; `outerInput` is the tensor a nested model is applied to. */
function addModelLayers(graph: GraphBuilder, model: LayersModel, outerInput: string | undefined, depth: number): void {
  if (depth > 8) throw new EvalInvalidArgument('models nested too deep');
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') {
      if (outerInput !== undefined) graph.alias.set(layer.name, outerInput);
      else if (graph.inputName === undefined) graph.inputName = layer.name;
      else throw new EvalInvalidArgument(`model has a second input ${layer.name}`);
      continue;
    }
    // A nested model also has the node that links its own inputs to its outputs, with no inbound
    // layers (tfjs-layers Container constructor); only the calls from the enclosing model count.
    const nodes = isContainer(layer)
      ? layer.inboundNodes.filter((node) => node.inboundLayers.length > 0)
      : layer.inboundNodes;
    // A model added as the first layer of a Sequential is not called at all: the Sequential takes
    // over its inputs and outputs (tfjs-layers Sequential.add), so it reads the enclosing input.
    const uncalledFirstModel = isContainer(layer) && nodes.length === 0 && layer.inputs.length === 1;
    if (nodes.length !== 1 && !uncalledFirstModel) {
      throw new EvalInvalidArgument(
        `layer ${layer.name} is called ${nodes.length} times (shared layers are not supported)`,
      );
    }
    const inboundNames = uncalledFirstModel
      ? [layer.inputs[0]!.sourceLayer.name]
      : nodes[0]!.inboundLayers.map((inbound) => inbound.name);
    const inputs = inboundNames.map((name) => resolveInput(graph, layer.name, name, outerInput));
    if (isContainer(layer)) {
      if (layer.inputs.length !== 1 || layer.outputs.length !== 1 || inputs.length !== 1) {
        throw new EvalInvalidArgument(`nested model ${layer.name} must have one input and one output`);
      }
      addModelLayers(graph, layer, inputs[0]!, depth + 1);
      // Whoever reads the nested model reads its output layer.
      const innerOutput = layer.outputs[0]!.sourceLayer.name;
      graph.alias.set(layer.name, graph.alias.get(innerOutput) ?? innerOutput);
      continue;
    }
    if (graph.produced.has(layer.name)) throw new EvalInvalidArgument(`duplicate layer name ${layer.name}`);
    for (const input of inputs) graph.consumers.set(input, [...(graph.consumers.get(input) ?? []), layer.name]);
    graph.steps.push({ layer, name: layer.name, className: layer.getClassName(), inputs });
    graph.produced.add(layer.name);
  }
}

/**
 * Lists the layers of a loaded TF.js LayersModel in execution order. `model.layers` is already
 * topologically sorted by tfjs-layers (Container sorts by node depth); Sequential models leave the
 * InputLayer out of `layers` (their first layer reads the hidden InputLayer, whose name then
 * becomes `inputName`), functional ones include it, so InputLayers are recognised by class. Models
 * nested in the model (a Sequential backbone under a head) are flattened into their layers, the
 * same names model-format's `listLayers` gives and calibrated ranges are keyed by.
 */
export function layerGraph(model: LayersModel): LayerGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new EvalInvalidArgument(`model with ${model.inputs.length} inputs and ${model.outputs.length} outputs`);
  }
  const graph: GraphBuilder = {
    steps: [],
    produced: new Set(),
    consumers: new Map(),
    alias: new Map(),
    inputName: undefined,
  };
  addModelLayers(graph, model, undefined, 0);
  const { inputName, steps, consumers } = graph;
  // `model.outputs[0].sourceLayer`, not `model.outputLayers`: a Sequential model sets `outputs` as
  // layers are added but mirrors `outputLayers`/`inputLayers` from its inner model only in `build()`,
  // which runs lazily on the first predict/compile (tfjs-layers 4.22 dist/models.js, Sequential.build).
  // A Sequential just loaded from a `class_name: 'Sequential'` topology therefore has none, and every
  // Sequential upload failed here with "model has no layers".
  const outputLayer = model.outputs[0]?.sourceLayer.name;
  const outputName = outputLayer === undefined ? undefined : (graph.alias.get(outputLayer) ?? outputLayer);
  if (inputName === undefined || outputName === undefined || steps.length === 0) {
    throw new EvalInvalidArgument('model has no layers');
  }
  if (!graph.produced.has(outputName)) {
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
