import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset.js';
import { decodeDataset, encodeDataset } from './format.js';
import { generateSynthetic } from './synthetic/generate.js';

const small = (): Dataset => generateSynthetic({ seed: 11, count: 7, size: 16 });

function expectCode(run: () => unknown, code: string): void {
  expect(run).toThrow(expect.objectContaining({ code }));
}

/** A file with a valid checksum but a header or payload we choose. */
function forge(header: Record<string, unknown>, payload: Uint8Array, version = 1): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(12 + json.length + payload.length);
  out.set(new TextEncoder().encode('MFDS'));
  const view = new DataView(out.buffer);
  view.setUint32(4, version, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  out.set(payload, 12 + json.length);
  return out;
}

describe('dataset file format', () => {
  it('round-trips every byte and field', () => {
    const ds = small();
    const decoded = decodeDataset(encodeDataset(ds));
    expect(decoded).toEqual(ds);
    expect(encodeDataset(decoded)).toEqual(encodeDataset(ds));
  });

  it('refuses a flipped pixel bit (checksum)', () => {
    const bytes = encodeDataset(small());
    bytes[bytes.length - 50]! ^= 1;
    expectCode(() => decodeDataset(bytes), 'MF_ERR_DATASET_CORRUPT');
  });

  it('refuses truncated files, bad magic and garbage headers', () => {
    const bytes = encodeDataset(small());
    expectCode(() => decodeDataset(bytes.subarray(0, bytes.length - 1)), 'MF_ERR_DATASET_CORRUPT');
    expectCode(() => decodeDataset(bytes.subarray(0, 5)), 'MF_ERR_DATASET_CORRUPT');
    const magic = bytes.slice();
    magic[0] = 0x4e;
    expectCode(() => decodeDataset(magic), 'MF_ERR_DATASET_CORRUPT');
    const hugeHeader = bytes.slice();
    new DataView(hugeHeader.buffer).setUint32(8, 0xffffffff, true);
    expectCode(() => decodeDataset(hugeHeader), 'MF_ERR_DATASET_CORRUPT');
    expectCode(() => decodeDataset(forge({ classNames: 'a' }, new Uint8Array(0))), 'MF_ERR_DATASET_CORRUPT');
  });

  it('refuses an unknown format version', () => {
    expectCode(() => decodeDataset(forge({}, new Uint8Array(0), 2)), 'MF_ERR_DATASET_VERSION_UNSUPPORTED');
  });

  it('refuses a label outside the class list even with a valid checksum', () => {
    const images = new Uint8Array(2 * 2 * 3);
    const labels = new Uint8Array([5]);
    const sha256 = createHash('sha256').update(images).update(labels).digest('hex');
    const header = { classNames: ['a', 'b'], height: 2, width: 2, channels: 3, count: 1, sha256 };
    const payload = new Uint8Array([...images, ...labels]);
    expectCode(() => decodeDataset(forge(header, payload)), 'MF_ERR_DATASET_CORRUPT');
    const good = new Uint8Array([...images, 1]);
    const goodSha = createHash('sha256')
      .update(images)
      .update(new Uint8Array([1]))
      .digest('hex');
    expect(decodeDataset(forge({ ...header, sha256: goodSha }, good)).labels).toEqual(new Uint8Array([1]));
  });

  it('refuses to encode a dataset whose parts disagree', () => {
    const ds = small();
    expectCode(() => encodeDataset({ ...ds, labels: ds.labels.subarray(1) }), 'MF_ERR_DATASET_INVALID_ARGUMENT');
  });
});
