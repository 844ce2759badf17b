/**
 * readArtifact: model.json + weight shards (untrusted) -> a validated ModelArtifact. Every refusal is a
 * ModelFleet error with a specific code; malformed input never escapes as a TypeError or RangeError.
 */
import {
  ArtifactTooLarge,
  DtypeUnknown,
  ModelFormatUnsupported,
  ModelJsonInvalid,
  ShardMissing,
  ShardPathInvalid,
  ShardSizeMismatch,
  WeightMissing,
  WeightShapeMismatch,
} from './errors.js';
import { LayoutError, layoutOfEntry } from './manifest.js';
import { elementCount, fixedByteLength } from './payload.js';
import { expectedWeights, listLayers, splitWeightName } from './topology.js';
import { DEFAULT_LIMITS, type ArtifactLimits, type ModelArtifact, type ModelJson, type TensorRecord } from './types.js';
import { validateTensor } from './validate-tensor.js';
import { shown } from './shown.js';

export const MODEL_JSON = 'model.json';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Shard paths are relative file names beside model.json: no absolute paths, no `..`, no backslashes. */
export function isSafeShardPath(path: string): boolean {
  if (path.length === 0 || path.length > 255) return false;
  if (path.startsWith('/') || path.includes('\\') || path.includes('\0') || path.includes('://')) return false;
  return path.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Deepest nesting of arrays/objects accepted in model.json: the signing package's canonical JSON (which
 * writes model.json and bundles) stops at 64, and JSON.stringify overflows the stack a few thousand
 * levels down, while JSON.parse (iterative in V8) reads any depth. Refusing here keeps an artifact that
 * reads from failing later (optimize job, bundle, logs). Keras topologies nest about a dozen levels.
 */
export const MAX_MODEL_JSON_DEPTH = 64;

/** True when `value` nests deeper than `maxDepth` (`{}` is depth 1). Iterative, so any depth is measured safely. */
function nestedDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

function parseModelJson(bytes: Uint8Array, limits: ArtifactLimits): Record<string, unknown> {
  if (bytes.length > limits.maxModelJsonBytes)
    throw new ArtifactTooLarge(`model.json is ${bytes.length} bytes (limit ${limits.maxModelJsonBytes})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ModelJsonInvalid('not UTF-8 JSON', { cause: error });
  }
  if (!isRecord(parsed)) throw new ModelJsonInvalid('not a JSON object');
  if (nestedDeeperThan(parsed, MAX_MODEL_JSON_DEPTH))
    throw new ModelJsonInvalid(`nested deeper than ${MAX_MODEL_JSON_DEPTH} levels`);
  return parsed;
}

interface ParsedEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  layout: ReturnType<typeof layoutOfEntry>['layout'];
  byteLength: number;
}

function parseEntry(raw: unknown, limits: ArtifactLimits): ParsedEntry {
  if (!isRecord(raw)) throw new ModelJsonInvalid('a weights manifest entry is not an object');
  const name = raw['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 512)
    throw new ModelJsonInvalid('a weight has no valid name');
  const shape = raw['shape'];
  if (!Array.isArray(shape) || shape.length > limits.maxRank || !shape.every((d) => Number.isInteger(d) && d >= 0))
    throw new ModelJsonInvalid(`weight ${name} has an invalid shape`);
  const dims = shape as number[];
  const elements = elementCount(dims);
  if (elements > limits.maxTensorElements)
    throw new ArtifactTooLarge(`weight ${name} has ${elements} elements (limit ${limits.maxTensorElements})`);
  const dtype = raw['dtype'];
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new DtypeUnknown(name, shown(dtype), { details: { tensor: name, dtype } });
  let parsed;
  try {
    parsed = layoutOfEntry(dtype, dims, raw['quantization']);
  } catch (error) {
    if (!(error instanceof LayoutError)) throw error;
    throw new DtypeUnknown(name, error.message, { details: { tensor: name, quantization: raw['quantization'] } });
  }
  const byteLength = fixedByteLength(dims, parsed.layout) ?? parsed.declaredByteLength;
  if (byteLength === undefined) throw new ModelJsonInvalid(`weight ${name} has no byte length`);
  return { name, shape: dims, dtype, layout: parsed.layout, byteLength };
}

export interface ReadOptions {
  readonly limits?: Partial<ArtifactLimits>;
}

export function readArtifact(files: ReadonlyMap<string, Uint8Array>, options: ReadOptions = {}): ModelArtifact {
  const limits: ArtifactLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const jsonBytes = files.get(MODEL_JSON);
  if (jsonBytes === undefined) throw new ModelJsonInvalid('model.json is missing');
  const raw = parseModelJson(jsonBytes, limits);

  const format = raw['format'];
  if (format !== undefined && format !== 'layers-model') throw new ModelFormatUnsupported(shown(format));
  const topology = raw['modelTopology'];
  if (!isRecord(topology)) throw new ModelJsonInvalid('modelTopology is missing or not an object');
  const layers = listLayers(topology, limits.maxLayers);
  if (raw['modelfleet'] !== undefined && !isRecord(raw['modelfleet']))
    throw new ModelJsonInvalid('modelfleet metadata is not an object');

  const manifest = raw['weightsManifest'];
  if (!Array.isArray(manifest)) throw new ModelJsonInvalid('weightsManifest is missing or not an array');
  const tensors: TensorRecord[] = [];
  const seenNames = new Set<string>();
  const seenPaths = new Set<string>();
  let totalBytes = 0;
  manifest.forEach((group, groupIndex) => {
    if (!isRecord(group) || !Array.isArray(group['paths']) || !Array.isArray(group['weights']))
      throw new ModelJsonInvalid(`weights group ${groupIndex} needs paths and weights arrays`);
    const shards: Uint8Array[] = [];
    for (const path of group['paths'] as unknown[]) {
      if (typeof path !== 'string' || !isSafeShardPath(path)) throw new ShardPathInvalid(shown(path));
      if (seenPaths.has(path)) throw new ModelJsonInvalid(`shard ${path} is listed twice`);
      seenPaths.add(path);
      if (seenPaths.size > limits.maxShards) throw new ArtifactTooLarge(`more than ${limits.maxShards} shards`);
      const bytes = files.get(path);
      if (bytes === undefined) throw new ShardMissing(path, { details: { path } });
      totalBytes += bytes.length;
      if (totalBytes > limits.maxTotalWeightBytes)
        throw new ArtifactTooLarge(`weights exceed ${limits.maxTotalWeightBytes} bytes`);
      shards.push(bytes);
    }
    const entries = (group['weights'] as unknown[]).map((entry) => parseEntry(entry, limits));
    const data = concat(shards);
    const described = entries.reduce((sum, e) => sum + e.byteLength, 0);
    if (described !== data.length)
      throw new ShardSizeMismatch(String(groupIndex), String(described), String(data.length), {
        details: { group: groupIndex, described, actual: data.length },
      });
    let offset = 0;
    for (const entry of entries) {
      if (seenNames.has(entry.name)) throw new ModelJsonInvalid(`weight ${entry.name} is listed twice`);
      seenNames.add(entry.name);
      if (seenNames.size > limits.maxTensors) throw new ArtifactTooLarge(`more than ${limits.maxTensors} weights`);
      // copy: the record must not alias the caller's shard buffers
      const bytes = data.slice(offset, offset + entry.byteLength);
      offset += entry.byteLength;
      tensors.push(validateTensor(entry.name, entry.shape, entry.dtype, entry.layout, bytes));
    }
  });

  checkWeightsAgainstLayers(layers, tensors);
  const { weightsManifest: _manifest, ...rest } = raw;
  const modelJson = { ...rest, format: 'layers-model' } as unknown as ModelJson;
  return { modelJson, tensors };
}

/** Every layer has exactly the weights its config implies, with the dims the config fixes. */
function checkWeightsAgainstLayers(layers: ReturnType<typeof listLayers>, tensors: readonly TensorRecord[]): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const claimed = new Set<string>();
  const layerNames = new Set(layers.map((l) => l.name));
  for (const layer of layers) {
    const expected = expectedWeights(layer);
    for (const weight of expected) {
      const name = `${layer.name}/${weight.param}`;
      const tensor = byName.get(name);
      if (tensor === undefined)
        throw new WeightMissing(layer.name, name, { details: { layer: layer.name, tensor: name } });
      claimed.add(name);
      if (tensor.dtype !== 'float32') throw new WeightShapeMismatch(name, `dtype ${tensor.dtype}, expected float32`);
      if (tensor.shape.length !== weight.shape.length)
        throw new WeightShapeMismatch(name, `rank ${tensor.shape.length}, expected ${weight.shape.length}`);
      weight.shape.forEach((dim, i) => {
        if (dim !== null && tensor.shape[i] !== dim)
          throw new WeightShapeMismatch(name, `shape [${tensor.shape.join(',')}] does not match the layer config`);
      });
    }
    // per-channel vectors of one layer agree with each other and with the kernel's channel count
    const vectors = expected.filter((w) => w.shape.length === 1).map((w) => byName.get(`${layer.name}/${w.param}`)!);
    const kernel = expected.find((w) => w.shape.length > 1);
    const kernelTensor = kernel ? byName.get(`${layer.name}/${kernel.param}`) : undefined;
    const channels =
      kernelTensor === undefined
        ? vectors[0]?.shape[0]
        : layer.className === 'DepthwiseConv2D'
          ? kernelTensor.shape[2]! * kernelTensor.shape[3]!
          : kernelTensor.shape[kernelTensor.shape.length - 1];
    for (const v of vectors)
      if (v.shape[0] !== channels)
        throw new WeightShapeMismatch(v.name, `length ${v.shape[0]} where the layer has ${channels} channels`);
  }
  for (const t of tensors) {
    if (claimed.has(t.name)) continue;
    const { layer } = splitWeightName(t.name);
    throw new ModelJsonInvalid(
      layerNames.has(layer)
        ? `weight ${t.name} is not a parameter of its layer`
        : `weight ${t.name} belongs to no layer of the topology`,
    );
  }
}
