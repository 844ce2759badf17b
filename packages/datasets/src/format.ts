import { createHash } from 'node:crypto';
import { assertDatasetShape, type Dataset, imageBytes, MAX_CLASSES } from './dataset.js';
import { DatasetCorrupt, DatasetVersionUnsupported } from './errors.js';

/**
 * The dataset file (`.mfds`), version 1, little-endian:
 *
 *   0   4  magic "MFDS"
 *   4   4  uint32 format version (1)
 *   8   4  uint32 byte length J of the header
 *   12  J  header, UTF-8 JSON: { classNames, height, width, channels, count, sha256 }
 *   ..  N*H*W*3  uint8 RGB pixels, image after image, row-major
 *   ..  N  uint8 labels
 *
 * `sha256` covers pixels and labels, so a flipped bit anywhere is refused, not trained on.
 */
export const DATASET_MAGIC = 'MFDS';
export const DATASET_FORMAT_VERSION = 1;
const PREFIX_BYTES = 12;
/** A header is a few class names and numbers; anything bigger is not one of ours. */
const MAX_HEADER_BYTES = 1 << 20;

interface DatasetHeader {
  classNames: string[];
  height: number;
  width: number;
  channels: 3;
  count: number;
  sha256: string;
}

function payloadSha256(images: Uint8Array, labels: Uint8Array): string {
  return createHash('sha256').update(images).update(labels).digest('hex');
}

export function encodeDataset(dataset: Dataset): Uint8Array {
  assertDatasetShape(dataset);
  const header: DatasetHeader = {
    classNames: dataset.classNames,
    height: dataset.height,
    width: dataset.width,
    channels: dataset.channels,
    count: dataset.labels.length,
    sha256: payloadSha256(dataset.images, dataset.labels),
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(PREFIX_BYTES + headerBytes.length + dataset.images.length + dataset.labels.length);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(DATASET_MAGIC), 0);
  view.setUint32(4, DATASET_FORMAT_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  out.set(dataset.images, PREFIX_BYTES + headerBytes.length);
  out.set(dataset.labels, PREFIX_BYTES + headerBytes.length + dataset.images.length);
  return out;
}

function isPositiveInt(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= max;
}

function parseHeader(bytes: Uint8Array): DatasetHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new DatasetCorrupt('header is not UTF-8 JSON', { cause });
  }
  if (typeof parsed !== 'object' || parsed === null) throw new DatasetCorrupt('header is not an object');
  const h = parsed as Record<string, unknown>;
  const { classNames } = h;
  if (
    !Array.isArray(classNames) ||
    classNames.length < 1 ||
    classNames.length > MAX_CLASSES ||
    !classNames.every((name) => typeof name === 'string' && name.length > 0) ||
    new Set(classNames).size !== classNames.length
  ) {
    throw new DatasetCorrupt('classNames must be distinct non-empty strings');
  }
  if (!isPositiveInt(h.height, 1 << 14) || !isPositiveInt(h.width, 1 << 14)) throw new DatasetCorrupt('image size');
  if (h.channels !== 3) throw new DatasetCorrupt('channels must be 3');
  if (typeof h.count !== 'number' || !Number.isInteger(h.count) || h.count < 0) throw new DatasetCorrupt('count');
  if (typeof h.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(h.sha256)) throw new DatasetCorrupt('sha256');
  return {
    classNames: classNames as string[],
    height: h.height,
    width: h.width,
    channels: 3,
    count: h.count,
    sha256: h.sha256,
  };
}

/** Reads a dataset file; throws MF_ERR_DATASET_CORRUPT or MF_ERR_DATASET_VERSION_UNSUPPORTED. */
export function decodeDataset(bytes: Uint8Array): Dataset {
  if (bytes.length < PREFIX_BYTES) throw new DatasetCorrupt(`only ${bytes.length} bytes`);
  if (new TextDecoder().decode(bytes.subarray(0, 4)) !== DATASET_MAGIC) throw new DatasetCorrupt('bad magic');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== DATASET_FORMAT_VERSION) {
    throw new DatasetVersionUnsupported(String(version), String(DATASET_FORMAT_VERSION));
  }
  const headerLength = view.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES || PREFIX_BYTES + headerLength > bytes.length) {
    throw new DatasetCorrupt(`header length ${headerLength}`);
  }
  const header = parseHeader(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength));
  const pixelBytes = header.count * imageBytes(header);
  const start = PREFIX_BYTES + headerLength;
  if (bytes.length !== start + pixelBytes + header.count) {
    throw new DatasetCorrupt(`expected ${start + pixelBytes + header.count} bytes, found ${bytes.length}`);
  }
  // Copies, so the dataset does not pin (or alias) the caller's file buffer.
  const images = bytes.slice(start, start + pixelBytes);
  const labels = bytes.slice(start + pixelBytes);
  if (payloadSha256(images, labels) !== header.sha256) throw new DatasetCorrupt('sha256 of pixels and labels differs');
  for (const label of labels) {
    if (label >= header.classNames.length) throw new DatasetCorrupt(`label ${label} out of range`);
  }
  return {
    classNames: header.classNames,
    height: header.height,
    width: header.width,
    channels: 3,
    images,
    labels,
  };
}
