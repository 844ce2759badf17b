import { isModelFleetError } from '@modelfleet/errors';
import { describe, expect, it } from 'vitest';
import { decodeBundle, packBundle, unpackBundle } from './bundle.js';
import { packFloat32 } from './payload.js';
import type { ModelArtifact } from './types.js';
import { artifactFiles } from './write.js';

const tiny: ModelArtifact = {
  modelJson: {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'Dense', config: { name: 'fc', units: 2, use_bias: true, batch_input_shape: [null, 3] } },
        ],
      },
    },
  },
  tensors: [
    packFloat32('fc/kernel', [3, 2], new Float32Array([1, 2, 3, 4, 5, 6])),
    packFloat32('fc/bias', [2], new Float32Array([0.5, -0.5])),
  ],
};

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isModelFleetError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('bundle container', () => {
  it('stores model.json deflated and shards as they are, and gives back the exact files', () => {
    const files = artifactFiles(tiny);
    const bundle = packBundle(files);
    const json = files.get('model.json')!;
    expect(bundle.length).toBeLessThan(16 + 64 + json.length + 32); // deflate pays off even here
    const back = unpackBundle(bundle);
    expect([...back.keys()]).toEqual([...files.keys()]);
    for (const [path, bytes] of files) expect(Buffer.from(back.get(path)!).equals(Buffer.from(bytes))).toBe(true);
    expect(decodeBundle(bundle).tensors.map((t) => t.name)).toEqual(['fc/kernel', 'fc/bias']);
  });

  it('refuses unsafe paths, unknown codecs, lying lengths and inflation bombs', () => {
    const files = artifactFiles(tiny);
    expect(codeOf(() => unpackBundle(packBundle(new Map([...files, ['../evil.bin', new Uint8Array(1)]]))))).toBe(
      'MF_ERR_BUNDLE_INVALID',
    );
    const bundle = packBundle(files);
    const view = new DataView(bundle.buffer);
    const codecAt = 16 + 2 + 'model.json'.length;
    const badCodec = bundle.slice();
    badCodec[codecAt] = 7;
    expect(codeOf(() => unpackBundle(badCodec))).toBe('MF_ERR_BUNDLE_INVALID');
    const lying = bundle.slice();
    new DataView(lying.buffer).setUint32(codecAt + 5, view.getUint32(codecAt + 5, true) + 1, true);
    expect(codeOf(() => unpackBundle(lying))).toBe('MF_ERR_BUNDLE_INVALID');
    // 64 MB of spaces deflate to a few KB: refused before inflating
    const bomb = packBundle(new Map([['model.json', new Uint8Array(64 * 1024 * 1024).fill(32)]]));
    expect(bomb.length).toBeLessThan(200_000);
    expect(codeOf(() => unpackBundle(bomb))).toBe('MF_ERR_BUNDLE_INVALID');
    expect(codeOf(() => unpackBundle(bundle.subarray(0, bundle.length - 1)))).toBe('MF_ERR_BUNDLE_INVALID');
    expect(codeOf(() => unpackBundle(new Uint8Array([...bundle, 0])))).toBe('MF_ERR_BUNDLE_INVALID');
  });
});
