import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isModelFleetError } from '@modelfleet/errors';
import {
  artifactFiles,
  decodeBundle,
  decodeTensor,
  elementCount,
  encodeBundle,
  packAffine,
  packFloat16,
  packFloat32,
  packInt8PerChannel,
  packPalette,
  packSparseRans,
  readArtifact,
  unpackBundle,
  type ModelArtifact,
  type TensorRecord,
} from './index.js';
import { MAX_MODEL_JSON_DEPTH } from './read.js';

/**
 * Hostile model uploads, generated: model.json and weight shards that are random, or valid ones with a
 * field, a shard or a byte changed. readArtifact (and the weight decoder behind it) must either accept
 * the artifact — and then every tensor decodes to as many finite values as its shape holds — or refuse it
 * with a ModelFleet error code. Never a TypeError/RangeError, never an unbounded run (per-case timeout).
 */

const PER_CASE = { timeout: 5_000, numRuns: 300 };
const KERNEL_SHAPE = [4, 3];

function kernelEncodings(): TensorRecord[] {
  const values = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 8);
  const q = Int8Array.from({ length: 12 }, (_, i) => (i % 5) - 2);
  const scales = Float32Array.from([0.5, 0.25, 0.125]);
  return [
    packFloat32('d/kernel', KERNEL_SHAPE, values),
    packFloat16(
      'd/kernel',
      KERNEL_SHAPE,
      Uint16Array.from({ length: 12 }, (_, i) => 0x3c00 + i),
    ),
    packAffine(
      'd/kernel',
      KERNEL_SHAPE,
      { bits: 8, scale: 0.01, min: -1 },
      Uint8Array.from({ length: 12 }, (_, i) => i),
    ),
    packAffine(
      'd/kernel',
      KERNEL_SHAPE,
      { bits: 16, scale: 1e-4, min: -1 },
      Uint16Array.from({ length: 12 }, (_, i) => i * 99),
    ),
    packInt8PerChannel('d/kernel', KERNEL_SHAPE, 1, scales, q),
    packPalette(
      'd/kernel',
      KERNEL_SHAPE,
      4,
      Float32Array.from({ length: 16 }, (_, i) => i / 16),
      Uint8Array.from({ length: 12 }, (_, i) => i % 16),
    ),
    packPalette(
      'd/kernel',
      KERNEL_SHAPE,
      8,
      Float32Array.from({ length: 256 }, (_, i) => i / 256),
      Uint8Array.from({ length: 12 }, (_, i) => i * 20),
    ),
    packSparseRans('d/kernel', KERNEL_SHAPE, 1, scales, q),
  ];
}

function artifactWith(kernel: TensorRecord): ModelArtifact {
  return {
    modelJson: {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'fuzzed',
          layers: [
            { class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, 4] } },
            { class_name: 'Dense', config: { name: 'd', units: 3, use_bias: true, activation: 'softmax' } },
          ],
        },
      },
    },
    tensors: [kernel, packFloat32('d/bias', [3], Float32Array.from([0.1, -0.2, 0.3]))],
  };
}

const VALID = kernelEncodings().map((kernel) => artifactFiles(artifactWith(kernel)));

/** The outcome of reading: 'ok' after checking every tensor decodes, else the error code (ours only). */
function readOutcome(files: ReadonlyMap<string, Uint8Array>): string {
  let artifact: ModelArtifact;
  try {
    artifact = readArtifact(files);
  } catch (error) {
    if (!isModelFleetError(error) || !error.code.startsWith('MF_ERR_')) throw error;
    return error.code;
  }
  for (const tensor of artifact.tensors) {
    const values = decodeTensor(tensor);
    expect(values.length).toBe(elementCount(tensor.shape));
    for (const value of values) expect(Number.isFinite(value), tensor.name).toBe(true);
  }
  return 'ok';
}

const text = (value: string) => new TextEncoder().encode(value);
const json = (files: ReadonlyMap<string, Uint8Array>) =>
  JSON.parse(new TextDecoder().decode(files.get('model.json'))) as Record<string, unknown>;

/** Sets `value` at a path of keys/indexes inside `root` (creating nothing: a missing step is a no-op). */
function setAt(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) {
    const next = node?.[step];
    if (next === null || typeof next !== 'object') return;
    node = next as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

const FIELDS: (string | number)[][] = [
  ['format'],
  ['modelTopology'],
  ['modelTopology', 'class_name'],
  ['modelTopology', 'config', 'layers'],
  ['modelTopology', 'config', 'layers', 1, 'class_name'],
  ['modelTopology', 'config', 'layers', 1, 'config', 'units'],
  ['modelTopology', 'config', 'layers', 1, 'config', 'use_bias'],
  ['modelTopology', 'config', 'layers', 1, 'name'],
  ['weightsManifest'],
  ['weightsManifest', 0, 'paths'],
  ['weightsManifest', 0, 'paths', 0],
  ['weightsManifest', 0, 'weights'],
  ['weightsManifest', 0, 'weights', 0, 'name'],
  ['weightsManifest', 0, 'weights', 0, 'shape'],
  ['weightsManifest', 0, 'weights', 0, 'shape', 0],
  ['weightsManifest', 0, 'weights', 0, 'dtype'],
  ['weightsManifest', 0, 'weights', 0, 'quantization'],
  ['weightsManifest', 0, 'weights', 0, 'quantization', 'dtype'],
  ['weightsManifest', 0, 'weights', 0, 'quantization', 'scale'],
  ['weightsManifest', 0, 'weights', 0, 'quantization', 'min'],
  ['weightsManifest', 0, 'weights', 0, 'quantization', 'axis'],
  ['weightsManifest', 0, 'weights', 0, 'quantization', 'byteLength'],
  ['weightsManifest', 0, 'weights', 1, 'shape'],
  ['modelfleet'],
];

/** Values a hostile manifest would try: huge, negative, fractional, non-finite-ish, wrong types, deep. */
const hostileValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    undefined,
    -1,
    0,
    1.5,
    2 ** 31,
    2 ** 53,
    1e308,
    -1e308,
    [1e308, 1e308, 0],
    [0, 1e308],
    [2 ** 26, 2 ** 26],
    [4, 3, 1, 1, 1, 1, 1, 1, 1],
    [],
    [-4, -3],
    '../../etc/passwd',
    '/abs.bin',
    'group1-shard1of1.bin',
    'C:\\x.bin',
    'float16',
    'int32',
    'uint8',
    'uint16',
    'mf-int8-per-channel',
    'mf-palette4',
    'mf-palette8',
    'mf-sparse-rans',
    { dtype: 'mf-sparse-rans', axis: 1, byteLength: 2 ** 40 },
    { dtype: 'mf-sparse-rans', axis: 0, byteLength: 0 },
    { dtype: 'uint8', scale: 1e308, min: 1e308 },
    { dtype: 'uint16', scale: -1e300, min: 0 },
    { dtype: 'mf-int8-per-channel', axis: 1.5 },
    'Sequential',
    'Model',
    'Conv2D',
    'DepthwiseConv2D',
    '__proto__',
  ),
);

const fieldEdit = fc.record({ path: fc.constantFrom(...FIELDS), value: hostileValue });
const shardEdit = fc.record({
  flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
  cut: fc.option(fc.nat({ max: 2000 })),
  append: fc.uint8Array({ maxLength: 16 }),
});

function mutated(
  base: ReadonlyMap<string, Uint8Array>,
  edits: { path: (string | number)[]; value: unknown }[],
  shard: { flips: [number, number][]; cut: number | null; append: Uint8Array } | null,
): Map<string, Uint8Array> {
  const files = new Map(base);
  const modelJson = json(base);
  for (const edit of edits) setAt(modelJson, edit.path, structuredClone(edit.value));
  files.set('model.json', text(JSON.stringify(modelJson)));
  if (shard !== null) {
    for (const [name, bytes] of base) {
      if (name === 'model.json') continue;
      const copy = new Uint8Array(bytes);
      for (const [at, value] of shard.flips) if (copy.length > 0) copy[at % copy.length] = value;
      const cut = shard.cut === null ? copy : copy.slice(0, shard.cut);
      files.set(name, new Uint8Array([...cut, ...shard.append]));
    }
  }
  return files;
}

describe('readArtifact against generated hostile uploads', () => {
  it('accepts every valid encoding of the base model (the fuzz starts from models that read)', () => {
    expect(VALID.map(readOutcome)).toEqual(VALID.map(() => 'ok'));
  });

  it('valid models with fields replaced, removed or made hostile: accepted and decodable, or an MF_ERR code', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...VALID),
        fc.array(fieldEdit, { minLength: 1, maxLength: 3 }),
        fc.option(shardEdit, { freq: 3 }),
        async (base, edits, shard) => {
          readOutcome(mutated(base, edits, shard));
        },
      ),
      { ...PER_CASE, numRuns: 1500 },
    );
  }, 120_000);

  it('weight shards with bytes flipped, cut or appended: accepted and decodable, or an MF_ERR code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...VALID), shardEdit, async (base, shard) => {
        readOutcome(mutated(base, [], shard));
      }),
      { ...PER_CASE, numRuns: 800 },
    );
  }, 120_000);

  it('model.json that is any JSON value, or any bytes at all: an MF_ERR code', async () => {
    const anyJson = fc.jsonValue({ maxDepth: 6 }).map((value) => text(JSON.stringify(value) ?? 'null'));
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyJson, fc.uint8Array({ maxLength: 512 })), async (bytes) => {
        expect(readOutcome(new Map([['model.json', bytes]]))).not.toBe('ok');
      }),
      PER_CASE,
    );
  }, 60_000);

  it('bundles (what the agent unpacks) with bytes flipped or cut: decoded and valid, or an MF_ERR code', async () => {
    const bundles = kernelEncodings().map((kernel) => encodeBundle(artifactWith(kernel)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...bundles), shardEdit, async (bundle, edit) => {
        const copy = new Uint8Array(bundle);
        for (const [at, value] of edit.flips) copy[at % copy.length] = value;
        const bytes = new Uint8Array([...(edit.cut === null ? copy : copy.slice(0, edit.cut)), ...edit.append]);
        for (const decode of [() => decodeBundle(bytes), () => unpackBundle(bytes)]) {
          try {
            decode();
          } catch (error) {
            if (!isModelFleetError(error)) throw error;
          }
        }
      }),
      { ...PER_CASE, numRuns: 800 },
    );
  }, 120_000);

  // Found while fuzzing: JSON.parse reads any depth, so a model.json with a 100,000-deep array in a layer
  // config was accepted — and then failed in canonical JSON (bundle, optimize job) and overflowed the stack
  // in JSON.stringify. Refused on upload now.
  it('refuses model.json nested deeper than the canonical serialiser writes, at any depth, with MF_ERR_MODEL_JSON_INVALID', () => {
    for (const depth of [MAX_MODEL_JSON_DEPTH, 100_000]) {
      const files = new Map(VALID[0]!);
      const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const modelJson = new TextDecoder()
        .decode(files.get('model.json'))
        .replace('"units":3', `"units":3,"extra":${nested}`);
      expect(modelJson).toContain('"extra"');
      files.set('model.json', text(modelJson));
      expect(readOutcome(files), String(depth)).toBe('MF_ERR_MODEL_JSON_INVALID');
    }
    // Just inside the bound (the layer config sits 6 levels down): read, bundled and written.
    const files = new Map(VALID[0]!);
    const depth = MAX_MODEL_JSON_DEPTH - 7;
    const modelJson = new TextDecoder()
      .decode(files.get('model.json'))
      .replace('"units":3', `"units":3,"extra":${'['.repeat(depth)}${']'.repeat(depth)}`);
    files.set('model.json', text(modelJson));
    const artifact = readArtifact(files);
    expect(() => encodeBundle(artifact)).not.toThrow();
  });
});
