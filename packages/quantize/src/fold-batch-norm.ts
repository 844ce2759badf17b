/**
 * Batch-norm folding, the first step of the TFLite converter and so of every candidate here: in
 * inference mode y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta, which is a convolution
 * with kernel W * f and bias (b - mean) * f + beta, f = gamma / sqrt(var + eps) per output channel.
 * The BatchNormalization layer disappears from the topology and its consumers read the conv directly.
 *
 * Why fold: (1) it is what the study's TFLite pipeline did — its theta1 failure is per-tensor ranges on
 * depthwise kernels *with folded batch norm*, where f spreads channel magnitudes over decades;
 * (2) four float32 vectors per channel become one bias: on MobileNet-v1 0.25 the batch-norm tensors
 * are 44 KB, 17 % of a per-channel int8 artifact. A layer is folded only when the batch norm's
 * single input is a linear Conv2D/DepthwiseConv2D/Dense used by nothing else, and none of the tensors
 * involved is on the caller's skip list.
 */
import {
  type ModelArtifact,
  type TensorDecision,
  type TensorRecord,
  channelCount,
  decodeTensor,
  packFloat32,
} from '@modelfleet/model-format';

type Json = Record<string, unknown>;

const FOLDABLE_PRODUCERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Dense']);

export interface FoldResult {
  readonly artifact: ModelArtifact;
  /** Folded batch-norm layer -> the layer it was folded into. */
  readonly folded: ReadonlyMap<string, string>;
  /** Decisions for the removed batch-norm tensors. */
  readonly decisions: readonly TensorDecision[];
  /** Tensors folding created or changed -> why. */
  readonly rewritten: ReadonlyMap<string, string>;
}

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nameOf(layer: Json): string {
  const config = layer['config'];
  return String(layer['name'] ?? (isRecord(config) ? config['name'] : ''));
}

/** Names of the layers a functional layer reads (tfjs 4 form: inbound_nodes = [[[name, node, tensor, kwargs], …]]). */
function inboundNames(layer: Json): string[] | undefined {
  const nodes = layer['inbound_nodes'];
  if (!Array.isArray(nodes)) return undefined;
  const names: string[] = [];
  for (const node of nodes) {
    if (!Array.isArray(node)) return undefined;
    for (const ref of node) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') return undefined;
      names.push(ref[0]);
    }
  }
  return names;
}

function renameInbound(layer: Json, from: string, to: string): void {
  const nodes = layer['inbound_nodes'];
  if (!Array.isArray(nodes)) return;
  for (const node of nodes)
    if (Array.isArray(node)) for (const ref of node) if (Array.isArray(ref) && ref[0] === from) ref[0] = to;
}

export function foldBatchNormalization(artifact: ModelArtifact, skip: ReadonlySet<string> = new Set()): FoldResult {
  const topology = structuredClone(artifact.modelJson.modelTopology) as Json;
  const model = isRecord(topology['model_config']) ? topology['model_config'] : topology;
  const config = model['config'];
  const layers = isRecord(config) && Array.isArray(config['layers']) ? (config['layers'] as Json[]) : undefined;
  if (
    layers === undefined ||
    !layers.every(isRecord) ||
    layers.some((l) => ['Sequential', 'Model', 'Functional'].includes(String(l['class_name'])))
  )
    return { artifact, folded: new Map(), decisions: [], rewritten: new Map() };
  const sequential = model['class_name'] === 'Sequential';
  const functional = layers.map(inboundNames);
  if (!sequential && functional.some((names, i) => names === undefined && layers[i]!['class_name'] !== 'InputLayer'))
    return { artifact, folded: new Map(), decisions: [], rewritten: new Map() };

  const producerOf = (index: number): number | undefined => {
    if (sequential) return index > 0 ? index - 1 : undefined;
    const names = functional[index];
    if (names === undefined || names.length !== 1) return undefined;
    const at = layers.findIndex((l) => nameOf(l) === names[0]);
    return at < 0 ? undefined : at;
  };
  const consumerCount = (index: number): number => {
    if (sequential) return index < layers.length - 1 ? 1 : 0;
    const name = nameOf(layers[index]!);
    return functional.reduce((n, names) => n + (names?.filter((x) => x === name).length ?? 0), 0);
  };
  const outputs = new Set<string>();
  if (isRecord(config) && Array.isArray(config['output_layers']))
    for (const ref of config['output_layers'] as unknown[])
      if (Array.isArray(ref) && typeof ref[0] === 'string') outputs.add(ref[0]);

  const byName = new Map(artifact.tensors.map((t) => [t.name, t]));
  const replaced = new Map<string, TensorRecord>();
  const removed = new Set<string>();
  const added = new Map<string, TensorRecord>(); // kernel name -> new bias inserted after it
  const folded = new Map<string, string>();
  const decisions: TensorDecision[] = [];
  const removeLayers = new Set<number>();
  const rewritten = new Map<string, string>();

  layers.forEach((layer, index) => {
    if (layer['class_name'] !== 'BatchNormalization') return;
    const bnConfig = layer['config'] as Json;
    const bn = nameOf(layer);
    const p = producerOf(index);
    if (p === undefined || removeLayers.has(p)) return;
    const producer = layers[p]!;
    const producerConfig = producer['config'] as Json;
    const producerClass = String(producer['class_name']);
    const producerName = nameOf(producer);
    if (!FOLDABLE_PRODUCERS.has(producerClass) || (producerConfig['activation'] ?? 'linear') !== 'linear') return;
    if (consumerCount(p) !== 1 || outputs.has(producerName)) return;
    const kernelName = `${producerName}/${producerClass === 'DepthwiseConv2D' ? 'depthwise_kernel' : 'kernel'}`;
    const biasName = `${producerName}/bias`;
    const kernel = byName.get(kernelName);
    const bias = byName.get(biasName);
    const bnTensors = ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((param) => byName.get(`${bn}/${param}`));
    if (kernel === undefined) return;
    const axis = bnConfig['axis'];
    if (!(
      axis === -1 ||
      (Array.isArray(axis) && axis.length === 1 && axis[0] === -1) ||
      axis === kernel.shape.length - 1 ||
      axis === 3
    ))
      return;
    const involved = [kernelName, biasName, ...bnTensors.filter((t) => t !== undefined).map((t) => t.name)];
    if (involved.some((name) => skip.has(name))) return;

    const channelAxis = producerClass === 'DepthwiseConv2D' ? 2 : kernel.shape.length - 1;
    const c = channelCount(kernel.shape, channelAxis);
    const epsilon = typeof bnConfig['epsilon'] === 'number' ? bnConfig['epsilon'] : 1e-3;
    const read = (t: TensorRecord | undefined, fallback: number): Float64Array =>
      t === undefined ? new Float64Array(c).fill(fallback) : Float64Array.from(decodeTensor(t));
    const [gamma, beta, mean, variance] = [
      read(bnTensors[0], 1),
      read(bnTensors[1], 0),
      read(bnTensors[2], 0),
      read(bnTensors[3], 1),
    ];
    if ([gamma, beta, mean, variance].some((v) => v.length !== c)) return;
    const factor = Float64Array.from(gamma, (g, k) => g / Math.sqrt(variance[k]! + epsilon));
    const w = decodeTensor(kernel);
    const newKernel = Float32Array.from(w, (v, i) => v * factor[i % c]!);
    const b = bias === undefined ? new Float64Array(c) : Float64Array.from(decodeTensor(bias));
    const newBias = Float32Array.from(b, (v, k) => (v - mean[k]!) * factor[k]! + beta[k]!);

    replaced.set(kernelName, packFloat32(kernelName, kernel.shape, newKernel));
    const biasRecord = packFloat32(biasName, [c], newBias);
    if (bias === undefined) added.set(kernelName, biasRecord);
    else replaced.set(biasName, biasRecord);
    for (const t of bnTensors) if (t !== undefined) removed.add(t.name);
    producerConfig['use_bias'] = true;
    removeLayers.add(index);
    folded.set(bn, producerName);
    for (const t of bnTensors)
      if (t !== undefined)
        decisions.push({
          tensor: t.name,
          layer: bn,
          layerClass: 'BatchNormalization',
          action: 'folded',
          encoding: 'float32',
          reason: `batch norm folded into ${producerName} (kernel x gamma/sqrt(var+eps), bias), as the TFLite converter does`,
        });
    rewritten.set(kernelName, `${bn} folded in`);
    rewritten.set(biasName, bias === undefined ? `bias created by folding ${bn}` : `${bn} folded in`);
  });
  if (folded.size === 0) return { artifact, folded, decisions: [], rewritten };

  // rewire: consumers of a folded batch norm read its producer
  for (const [bn, producer] of folded) {
    for (const layer of layers) renameInbound(layer, bn, producer);
    if (isRecord(config) && Array.isArray(config['output_layers']))
      for (const ref of config['output_layers'] as unknown[])
        if (Array.isArray(ref) && ref[0] === bn) ref[0] = producer;
  }
  (config as Json)['layers'] = layers.filter((_, i) => !removeLayers.has(i));

  const tensors: TensorRecord[] = [];
  for (const t of artifact.tensors) {
    if (removed.has(t.name)) continue;
    tensors.push(replaced.get(t.name) ?? t);
    const bias = added.get(t.name);
    if (bias !== undefined) tensors.push(bias);
  }
  return {
    artifact: { modelJson: { ...artifact.modelJson, modelTopology: topology }, tensors },
    folded,
    decisions,
    rewritten,
  };
}
