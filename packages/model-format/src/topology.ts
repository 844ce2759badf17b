/**
 * The layers of a LayersModel topology, and the layer classes ModelFleet accepts. The supported set is
 * what a MobileNet-v1 classifier (and its usual heads) needs; anything else is refused on upload,
 * because evaluate's integer simulation and the device runtime are only proven on these.
 */
import { LayerUnsupported, ModelFormatUnsupported, ModelJsonInvalid } from './errors.js';

export const SUPPORTED_LAYER_CLASSES: ReadonlySet<string> = new Set([
  'InputLayer',
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'ReLU',
  'Activation',
  'ZeroPadding2D',
  'GlobalAveragePooling2D',
  'AveragePooling2D',
  'MaxPooling2D',
  'Dropout',
  'Dense',
  'Reshape',
  'Flatten',
  'Softmax',
]);

const CONTAINER_CLASSES: ReadonlySet<string> = new Set(['Sequential', 'Model', 'Functional']);

export interface LayerInfo {
  readonly name: string;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Functional models: the raw `inbound_nodes` of the layer (Sequential: undefined). */
  readonly inboundNodes?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The Keras model config inside a topology (tfjs nests it under `model_config` for Python-converted models). */
function modelConfigOf(topology: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const inner = topology['model_config'];
  return isRecord(inner) ? inner : topology;
}

/**
 * Flattens the layers of a topology in order, descending into nested Sequential/Model layers.
 * Throws MF_ERR_MODEL_FORMAT_UNSUPPORTED for graph models and MF_ERR_LAYER_UNSUPPORTED for layer
 * classes outside SUPPORTED_LAYER_CLASSES.
 */
export function listLayers(topology: Readonly<Record<string, unknown>>, maxLayers = 2048): LayerInfo[] {
  const root = modelConfigOf(topology);
  if (Array.isArray(root['node'])) throw new ModelFormatUnsupported('graph-model');
  const out: LayerInfo[] = [];
  const visit = (model: Record<string, unknown>, depth: number): void => {
    if (depth > 8) throw new ModelJsonInvalid('models nested too deep');
    const className = model['class_name'];
    if (typeof className !== 'string' || !CONTAINER_CLASSES.has(className))
      throw new ModelJsonInvalid(
        `topology class_name must be Sequential, Model or Functional, got ${String(className)}`,
      );
    const config = model['config'];
    // tfjs accepts a Sequential config that is the bare layer array (pre-1.0 Keras)
    const layers = Array.isArray(config) ? config : isRecord(config) ? config['layers'] : undefined;
    if (!Array.isArray(layers)) throw new ModelJsonInvalid('topology has no layers array');
    for (const layer of layers) {
      if (!isRecord(layer)) throw new ModelJsonInvalid('a layer is not an object');
      const layerClass = layer['class_name'];
      const layerConfig = layer['config'];
      if (typeof layerClass !== 'string' || !isRecord(layerConfig))
        throw new ModelJsonInvalid('a layer lacks class_name or config');
      if (CONTAINER_CLASSES.has(layerClass)) {
        visit(layer, depth + 1);
        continue;
      }
      const name = layer['name'] ?? layerConfig['name'];
      if (typeof name !== 'string' || name.length === 0) throw new ModelJsonInvalid('a layer has no name');
      if (!SUPPORTED_LAYER_CLASSES.has(layerClass))
        throw new LayerUnsupported(name, layerClass, { details: { layer: name, className: layerClass } });
      out.push({ name, className: layerClass, config: layerConfig, inboundNodes: layer['inbound_nodes'] });
      if (out.length > maxLayers) throw new ModelJsonInvalid(`more than ${maxLayers} layers`);
    }
  };
  visit(root, 0);
  const names = new Set<string>();
  for (const layer of out) {
    if (names.has(layer.name)) throw new ModelJsonInvalid(`duplicate layer name ${layer.name}`);
    names.add(layer.name);
  }
  return out;
}

/** Splits `conv_pw_1/kernel` into layer `conv_pw_1` and parameter `kernel`. */
export function splitWeightName(name: string): { layer: string; param: string } {
  const cut = name.lastIndexOf('/');
  return cut < 0 ? { layer: '', param: name } : { layer: name.slice(0, cut), param: name.slice(cut + 1) };
}

/** Which weight a layer parameter is, for quantization decisions and checks. */
export type WeightRole =
  | 'conv-kernel'
  | 'depthwise-kernel'
  | 'dense-kernel'
  | 'bias'
  | 'bn-gamma'
  | 'bn-beta'
  | 'bn-moving-mean'
  | 'bn-moving-variance';

export interface ExpectedWeight {
  readonly param: string;
  readonly role: WeightRole;
  /** Known dims; null where the dim depends on the layer's input. */
  readonly shape: readonly (number | null)[];
}

function numberPair(value: unknown): [number, number] | undefined {
  if (typeof value === 'number') return [value, value];
  if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number'))
    return [value[0] as number, value[1] as number];
  return undefined;
}

/** The weights a layer must carry, derived from its config (empty for weightless layers). */
export function expectedWeights(layer: LayerInfo): ExpectedWeight[] {
  const c = layer.config;
  const useBias = c['use_bias'] !== false;
  switch (layer.className) {
    case 'Conv2D': {
      const filters = typeof c['filters'] === 'number' ? c['filters'] : null;
      const k = numberPair(c['kernel_size']);
      return [
        { param: 'kernel', role: 'conv-kernel', shape: [k?.[0] ?? null, k?.[1] ?? null, null, filters] },
        ...(useBias ? [{ param: 'bias', role: 'bias' as const, shape: [filters] }] : []),
      ];
    }
    case 'DepthwiseConv2D': {
      const multiplier = typeof c['depth_multiplier'] === 'number' ? c['depth_multiplier'] : 1;
      const k = numberPair(c['kernel_size']);
      return [
        {
          param: 'depthwise_kernel',
          role: 'depthwise-kernel',
          shape: [k?.[0] ?? null, k?.[1] ?? null, null, multiplier],
        },
        ...(useBias ? [{ param: 'bias', role: 'bias' as const, shape: [null] }] : []),
      ];
    }
    case 'Dense': {
      const units = typeof c['units'] === 'number' ? c['units'] : null;
      return [
        { param: 'kernel', role: 'dense-kernel', shape: [null, units] },
        ...(useBias ? [{ param: 'bias', role: 'bias' as const, shape: [units] }] : []),
      ];
    }
    case 'BatchNormalization':
      return [
        ...(c['scale'] !== false ? [{ param: 'gamma', role: 'bn-gamma' as const, shape: [null] }] : []),
        ...(c['center'] !== false ? [{ param: 'beta', role: 'bn-beta' as const, shape: [null] }] : []),
        { param: 'moving_mean', role: 'bn-moving-mean', shape: [null] },
        { param: 'moving_variance', role: 'bn-moving-variance', shape: [null] },
      ];
    default:
      return [];
  }
}
