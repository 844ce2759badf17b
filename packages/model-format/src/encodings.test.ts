/** Every encoding round-trips through write -> read -> bundle -> decode, byte for byte. */
import { beforeAll, describe, expect, it } from 'vitest';
import { bundleSha256, decodeBundle, encodeBundle, unpackBundle } from './bundle.js';
import { encodeFloat16 } from './float16.js';
import {
  channelCount,
  decodeTensor,
  elementCount,
  packAffine,
  packFloat16,
  packInt8PerChannel,
  packPalette,
  packSparseRans,
} from './payload.js';
import { readArtifact } from './read.js';
import { tensorTable } from './tensor-table.js';
import { buildTinyMobileNet, savedFiles, useCpuBackend } from './testing/tiny-model.js';
import type { ModelArtifact, TensorRecord } from './types.js';
import { artifactFiles, writeArtifact } from './write.js';

type Encoder = (t: TensorRecord) => TensorRecord;

function symmetricInt8(t: TensorRecord, axis: number, sparsity = 0): { scales: Float32Array; q: Int8Array } {
  const values = decodeTensor(t);
  const c = channelCount(t.shape, axis);
  const scales = new Float32Array(c);
  for (let i = 0; i < values.length; i++) scales[i % c] = Math.max(scales[i % c]!, Math.abs(values[i]!));
  for (let k = 0; k < c; k++) scales[k] = scales[k]! / 127;
  const q = Int8Array.from(values, (v, i) =>
    Math.abs(v) < sparsity ? 0 : scales[i % c] === 0 ? 0 : Math.round(v / scales[i % c]!),
  );
  return { scales, q };
}

const encoders: Record<string, Encoder> = {
  float16: (t) => packFloat16(t.name, t.shape, encodeFloat16(decodeTensor(t)).bits),
  uint16: (t) => {
    const v = decodeTensor(t);
    const min = Math.min(...v);
    const scale = (Math.max(...v) - min) / 65535 || 1;
    return packAffine(
      t.name,
      t.shape,
      { bits: 16, scale, min },
      Uint16Array.from(v, (x) => Math.round((x - min) / scale)),
    );
  },
  'int8-per-channel': (t) => {
    const axis = t.shape.length - 1;
    const { scales, q } = symmetricInt8(t, axis);
    return packInt8PerChannel(t.name, t.shape, axis, scales, q);
  },
  palette4: (t) => {
    const centroids = Float32Array.from({ length: 16 }, (_, k) => (k - 8) / 10);
    const indices = Uint8Array.from(decodeTensor(t), (v) => Math.max(0, Math.min(15, Math.round(v * 10) + 8)));
    return packPalette(t.name, t.shape, 4, centroids, indices);
  },
  palette8: (t) => {
    const centroids = Float32Array.from({ length: 256 }, (_, k) => (k - 128) / 100);
    const indices = Uint8Array.from(decodeTensor(t), (v) => Math.max(0, Math.min(255, Math.round(v * 100) + 128)));
    return packPalette(t.name, t.shape, 8, centroids, indices);
  },
  'sparse-rans': (t) => {
    const axis = t.shape.length - 1;
    const { scales, q } = symmetricInt8(t, axis, 0.2);
    return packSparseRans(t.name, t.shape, axis, scales, q);
  },
};

describe('encodings round-trip', () => {
  let base: ModelArtifact;
  beforeAll(async () => {
    await useCpuBackend();
    base = readArtifact(await savedFiles(buildTinyMobileNet()));
  });

  it('reads a stock TF.js save: every tensor float32, roles from the topology', () => {
    expect(base.tensors.every((t) => t.encoding.kind === 'float32')).toBe(true);
    const table = tensorTable(base);
    expect(table.find((r) => r.name === 'conv_dw_1/depthwise_kernel')).toMatchObject({
      role: 'depthwise-kernel',
      layerClass: 'DepthwiseConv2D',
      shape: [3, 3, 8, 1],
    });
    expect(table.find((r) => r.name === 'predictions/bias')).toMatchObject({ role: 'bias', byteLength: 20 });
    expect(table.find((r) => r.name === 'conv1_bn/moving_variance')?.role).toBe('bn-moving-variance');
  });

  for (const [label, encode] of Object.entries(encoders)) {
    it(`${label}: write -> read -> bundle -> decode keeps bytes and values`, () => {
      // encode the kernels (rank >= 2), keep vectors float32: a mixed artifact like the quantizers make
      const artifact: ModelArtifact = {
        ...base,
        tensors: base.tensors.map((t) => (t.shape.length >= 2 ? encode(t) : t)),
      };
      const reread = readArtifact(artifactFiles(artifact));
      const bundle = encodeBundle(artifact);
      const fromBundle = decodeBundle(bundle);
      for (const copy of [reread, fromBundle]) {
        expect(copy.tensors.map((t) => t.name)).toEqual(artifact.tensors.map((t) => t.name));
        copy.tensors.forEach((t, i) => {
          const original = artifact.tensors[i]!;
          expect(t.encoding).toEqual(original.encoding);
          expect(Buffer.from(t.bytes).equals(Buffer.from(original.bytes))).toBe(true);
          expect(Array.from(decodeTensor(t))).toEqual(Array.from(decodeTensor(original)));
          expect(decodeTensor(t).length).toBe(elementCount(t.shape));
        });
      }
      // deterministic: the same artifact, re-read, bundles to the same bytes
      expect(bundleSha256(fromBundle)).toBe(bundleSha256(artifact));
      expect(Buffer.from(encodeBundle(reread)).equals(Buffer.from(bundle))).toBe(true);
    });
  }

  it('the bundle holds exactly the written files', () => {
    const written = writeArtifact(base);
    const files = unpackBundle(encodeBundle(base));
    expect([...files.keys()]).toEqual(['model.json', ...written.shards.keys()]);
    expect(new TextDecoder().decode(files.get('model.json'))).toBe(written.modelJson);
  });

  it('bundle hash ignores the key order of the uploaded model.json', async () => {
    const files = await savedFiles(buildTinyMobileNet());
    const json = JSON.parse(new TextDecoder().decode(files.get('model.json'))) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(json).reverse());
    const other = new Map(files);
    other.set('model.json', new TextEncoder().encode(JSON.stringify(reordered, null, 2)));
    expect(bundleSha256(readArtifact(other))).toBe(bundleSha256(readArtifact(files)));
  });

  it('keeps modelfleet metadata through write and read', () => {
    const withMeta: ModelArtifact = {
      ...base,
      modelJson: {
        ...base.modelJson,
        modelfleet: {
          version: 1,
          variant: 'theta2',
          activationRanges: { method: 'minmax', input: { min: -1, max: 1 }, layers: { conv1: { min: 0, max: 6 } } },
        },
      },
    };
    expect(readArtifact(artifactFiles(withMeta)).modelJson.modelfleet).toEqual(withMeta.modelJson.modelfleet);
  });
});
