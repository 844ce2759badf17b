/** Acceptance: bad artifacts are refused with a specific code, never a crash. */
import { isModelFleetError } from '@modelfleet/errors';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeBundle, encodeBundle } from './bundle.js';
import { readArtifact } from './read.js';
import { buildTinyMobileNet, savedFiles, useCpuBackend } from './testing/tiny-model.js';
import { packSparseRans } from './payload.js';
import { artifactFiles } from './write.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let good: Map<string, Uint8Array>;

function jsonOf(files: Map<string, Uint8Array>): Json {
  return JSON.parse(new TextDecoder().decode(files.get('model.json'))) as Json;
}

function withJson(edit: (json: Json) => void, files = good): Map<string, Uint8Array> {
  const json = jsonOf(files);
  edit(json);
  const out = new Map(files);
  out.set('model.json', new TextEncoder().encode(JSON.stringify(json)));
  return out;
}

function codeOf(files: Map<string, Uint8Array>): string {
  try {
    readArtifact(files);
  } catch (error) {
    if (isModelFleetError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

/** Byte offset of a weight inside the (single) shard of the stock save. */
function offsetOf(name: string): number {
  let offset = 0;
  for (const w of jsonOf(good)['weightsManifest'][0].weights as Json[]) {
    if (w['name'] === name) return offset;
    offset += (w['shape'] as number[]).reduce((a, b) => a * b, 1) * 4;
  }
  throw new Error(name);
}

describe('readArtifact refuses bad artifacts', () => {
  beforeAll(async () => {
    await useCpuBackend();
    good = await savedFiles(buildTinyMobileNet());
  });

  it('accepts the stock save', () => expect(codeOf(good)).toBe('accepted'));

  it('missing shard -> MF_ERR_SHARD_MISSING', () => {
    const files = new Map(good);
    files.delete('weights.bin');
    expect(codeOf(files)).toBe('MF_ERR_SHARD_MISSING');
  });

  it('byte count mismatch -> MF_ERR_SHARD_SIZE_MISMATCH (short, long, wrong shape)', () => {
    const short = new Map(good);
    short.set('weights.bin', good.get('weights.bin')!.subarray(0, 100));
    expect(codeOf(short)).toBe('MF_ERR_SHARD_SIZE_MISMATCH');
    const long = new Map(good);
    long.set('weights.bin', new Uint8Array(good.get('weights.bin')!.length + 4));
    expect(codeOf(long)).toBe('MF_ERR_SHARD_SIZE_MISMATCH');
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].shape = [3, 3, 3, 9])))).toBe(
      'MF_ERR_SHARD_SIZE_MISMATCH',
    );
  });

  it('NaN or Infinity in a float weight -> MF_ERR_WEIGHTS_NOT_FINITE', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const shard = good.get('weights.bin')!.slice();
      new DataView(shard.buffer).setFloat32(offsetOf('conv_pw_1/kernel') + 4 * 7, bad, true);
      const files = new Map(good);
      files.set('weights.bin', shard);
      expect(codeOf(files)).toBe('MF_ERR_WEIGHTS_NOT_FINITE');
    }
  });

  it('Inf/NaN float16 patterns and non-finite affine parameters -> MF_ERR_WEIGHTS_NOT_FINITE', () => {
    // predictions/bias (5 values) rewritten as float16 with an Inf pattern
    const json = jsonOf(good);
    const weights = json['weightsManifest'][0].weights as Json[];
    const shard = good.get('weights.bin')!;
    const biasAt = offsetOf('predictions/bias');
    const halves = new Uint16Array([0x3c00, 0x7c00, 0, 0, 0]);
    const rebuilt = new Uint8Array(shard.length - 20 + 10);
    rebuilt.set(shard.subarray(0, biasAt));
    rebuilt.set(new Uint8Array(halves.buffer), biasAt);
    rebuilt.set(shard.subarray(biasAt + 20), biasAt + 10);
    weights.find((w) => w['name'] === 'predictions/bias')!['quantization'] = { dtype: 'float16' };
    const files = new Map(good);
    files.set('model.json', new TextEncoder().encode(JSON.stringify(json)));
    files.set('weights.bin', rebuilt);
    expect(codeOf(files)).toBe('MF_ERR_WEIGHTS_NOT_FINITE');
    halves[1] = 0x4000;
    rebuilt.set(new Uint8Array(halves.buffer), biasAt);
    expect(codeOf(files)).toBe('accepted');
    // the same 10 bytes read as uint16 affine with a scale so large that values overflow float32
    weights.find((w) => w['name'] === 'predictions/bias')!['quantization'] = { dtype: 'uint16', scale: 1e308, min: 0 };
    files.set('model.json', new TextEncoder().encode(JSON.stringify(json)));
    expect(codeOf(files)).toBe('MF_ERR_WEIGHTS_NOT_FINITE');
    weights.find((w) => w['name'] === 'predictions/bias')!['quantization'] = { dtype: 'uint16', scale: 1e-3, min: -1 };
    files.set('model.json', new TextEncoder().encode(JSON.stringify(json)));
    expect(codeOf(files)).toBe('accepted');
  });

  it('unknown dtype or quantization -> MF_ERR_DTYPE_UNKNOWN', () => {
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].dtype = 'float64')))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].dtype = 'string')))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].quantization = { dtype: 'int4' })))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].quantization = { dtype: 'uint8' })))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
  });

  it('unsupported layer class -> MF_ERR_LAYER_UNSUPPORTED', () => {
    const files = withJson((j) => {
      j['modelTopology'].config.layers.splice(9, 0, { class_name: 'LSTM', config: { name: 'lstm_1', units: 4 } });
    });
    expect(codeOf(files)).toBe('MF_ERR_LAYER_UNSUPPORTED');
  });

  it('other malformed input gets its own code', () => {
    expect(codeOf(new Map([['model.json', new TextEncoder().encode('{not json')]]))).toBe('MF_ERR_MODEL_JSON_INVALID');
    expect(codeOf(new Map([['weights.bin', new Uint8Array(4)]]))).toBe('MF_ERR_MODEL_JSON_INVALID');
    expect(codeOf(withJson((j) => void (j['format'] = 'graph-model')))).toBe('MF_ERR_MODEL_FORMAT_UNSUPPORTED');
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].paths = ['../../etc/passwd'])))).toBe(
      'MF_ERR_SHARD_PATH_INVALID',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].shape = [1, 2, -3, 4])))).toBe(
      'MF_ERR_MODEL_JSON_INVALID',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].shape = [1e6, 1e6, 1, 1])))).toBe(
      'MF_ERR_ARTIFACT_TOO_LARGE',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].name = 'ghost/kernel')))).toBe(
      'MF_ERR_WEIGHT_MISSING',
    );
    expect(codeOf(withJson((j) => void (j['modelTopology'].config.layers[0].config.filters = 9)))).toBe(
      'MF_ERR_WEIGHT_SHAPE_MISMATCH',
    );
    expect(codeOf(withJson((j) => void (j['modelTopology'].config.layers[11].config.use_bias = false)))).toBe(
      'MF_ERR_MODEL_JSON_INVALID',
    );
  });

  it('values that cannot be turned into text ({"toString": null}) get our codes, not a TypeError', () => {
    const hostile = { toString: null, valueOf: null };
    expect(codeOf(withJson((j) => void (j['format'] = hostile)))).toBe('MF_ERR_MODEL_FORMAT_UNSUPPORTED');
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].dtype = hostile)))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].paths = [hostile])))).toBe('MF_ERR_SHARD_PATH_INVALID');
    expect(codeOf(withJson((j) => void (j['weightsManifest'][0].weights[0].quantization = { dtype: hostile })))).toBe(
      'MF_ERR_DTYPE_UNKNOWN',
    );
  });

  it('a corrupt entropy-coded tensor -> MF_ERR_TENSOR_PAYLOAD_INVALID', () => {
    const base = readArtifact(good);
    const tensors = base.tensors.map((t) =>
      t.name === 'conv_pw_1/kernel'
        ? packSparseRans(
            t.name,
            t.shape,
            3,
            new Float32Array(16).fill(0.01),
            new Int8Array(128).map((_, i) => (i % 5) - 2),
          )
        : t,
    );
    const files = artifactFiles({ ...base, tensors });
    expect(codeOf(files)).toBe('accepted');
    const shard = [...files.entries()].find(([k]) => k.endsWith('.bin'))!;
    const json = jsonOf(files);
    let at = 0;
    for (const w of json['weightsManifest'][0].weights as Json[]) {
      if (w['name'] === 'conv_pw_1/kernel') break;
      at += w['quantization']?.byteLength ?? (w['shape'] as number[]).reduce((a, b) => a * b, 1) * 4;
    }
    const corrupt = shard[1].slice();
    corrupt[at + 16 * 4 + 20] = corrupt[at + 16 * 4 + 20]! ^ 0x5a;
    files.set(shard[0], corrupt);
    expect(codeOf(files)).toBe('MF_ERR_TENSOR_PAYLOAD_INVALID');
  });

  it('random corruption of model.json, shards or bundles never escapes as a crash', () => {
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const bundle = encodeBundle(readArtifact(good));
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const which = i % 3;
      const source = which === 0 ? good.get('model.json')! : which === 1 ? good.get('weights.bin')! : bundle;
      const bytes = source.slice();
      for (let k = 0; k < 1 + Math.floor(random() * 4); k++)
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = random() < 0.2 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      try {
        if (which === 2) decodeBundle(cut);
        else readArtifact(new Map(good).set(which === 0 ? 'model.json' : 'weights.bin', cut));
      } catch (error) {
        if (!isModelFleetError(error)) throw error;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(50);
  });
});
