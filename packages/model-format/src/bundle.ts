/**
 * The canonical single-file bundle: exactly the files writeArtifact produces (model.json first, then
 * the shards in manifest order) behind a small header. Deterministic, so its sha256 identifies every
 * byte a device installs; unpacking gives back those files byte for byte.
 *
 *   "MFBUNDLE" | u32 LE version (1) | u32 LE file count
 *   per file: u16 LE path length | path (UTF-8) | u8 codec | u32 LE stored length | u32 LE file length
 *   stored contents, concatenated in the same order
 *
 * codec 0 = stored, 1 = raw DEFLATE (level 9). model.json is deflated: it is verbose text (46 KB for
 * MobileNet-v1 0.25, of which the weights are 880 KB) and shrinks ~17x, while the weights stay raw so
 * tensors can be read in place and diffed tensor by tensor. Measured on that model: per-channel int8
 * weights are 25.7 % of the float32 weights, but 30 % of the bundle with model.json stored raw.
 * zlib output is stable for a given zlib build; a Node upgrade that changed it would change bundle
 * hashes of re-encoded artifacts, never the meaning of stored ones (decoding checks the lengths).
 */
import { createHash } from 'node:crypto';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { BundleInvalid } from './errors.js';
import { MODEL_JSON, type ReadOptions, isSafeShardPath, readArtifact } from './read.js';
import { DEFAULT_LIMITS, type ModelArtifact } from './types.js';
import { artifactFiles } from './write.js';

const MAGIC = 'MFBUNDLE';
const VERSION = 1;
const MAX_FILES = 4096;

const STORED = 0;
const DEFLATED = 1;

function deflate(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(
    deflateRawSync(bytes, { level: 9, memLevel: 9, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY }),
  );
}

export function packBundle(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const encoder = new TextEncoder();
  const entries = [...files].map(([path, bytes]) => {
    const codec = path === MODEL_JSON ? DEFLATED : STORED;
    return {
      path: encoder.encode(path),
      codec,
      original: bytes.length,
      stored: codec === DEFLATED ? deflate(bytes) : bytes,
    };
  });
  const headerLength = 16 + entries.reduce((sum, e) => sum + 11 + e.path.length, 0);
  const total = headerLength + entries.reduce((sum, e) => sum + e.stored.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(encoder.encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, entries.length, true);
  let offset = 16;
  for (const e of entries) {
    view.setUint16(offset, e.path.length, true);
    out.set(e.path, offset + 2);
    offset += 2 + e.path.length;
    view.setUint8(offset, e.codec);
    view.setUint32(offset + 1, e.stored.length, true);
    view.setUint32(offset + 5, e.original, true);
    offset += 9;
  }
  for (const e of entries) {
    out.set(e.stored, offset);
    offset += e.stored.length;
  }
  return out;
}

/** The files inside a bundle (model.json + shards), for installing them on disk. */
export function unpackBundle(bundle: Uint8Array): Map<string, Uint8Array> {
  if (bundle.length < 16 || new TextDecoder().decode(bundle.subarray(0, 8)) !== MAGIC)
    throw new BundleInvalid('bad magic');
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new BundleInvalid(`unknown version ${version}`);
  const count = view.getUint32(12, true);
  if (count === 0 || count > MAX_FILES) throw new BundleInvalid(`file count ${count}`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const heads: { path: string; codec: number; stored: number; original: number }[] = [];
  let offset = 16;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bundle.length) throw new BundleInvalid('truncated header');
    const pathLength = view.getUint16(offset, true);
    if (offset + 11 + pathLength > bundle.length) throw new BundleInvalid('truncated header');
    let path: string;
    try {
      path = decoder.decode(bundle.subarray(offset + 2, offset + 2 + pathLength));
    } catch (error) {
      throw new BundleInvalid('path is not UTF-8', { cause: error });
    }
    if (path !== MODEL_JSON && !isSafeShardPath(path)) throw new BundleInvalid(`unsafe path ${path}`);
    offset += 2 + pathLength;
    const codec = view.getUint8(offset);
    if (codec !== STORED && codec !== DEFLATED) throw new BundleInvalid(`unknown codec ${codec}`);
    heads.push({ path, codec, stored: view.getUint32(offset + 1, true), original: view.getUint32(offset + 5, true) });
    offset += 9;
  }
  const files = new Map<string, Uint8Array>();
  for (const head of heads) {
    if (offset + head.stored > bundle.length) throw new BundleInvalid('truncated contents');
    if (files.has(head.path)) throw new BundleInvalid(`file ${head.path} appears twice`);
    const stored = bundle.subarray(offset, offset + head.stored);
    offset += head.stored;
    if (head.codec === STORED) {
      if (head.original !== head.stored)
        throw new BundleInvalid(`${head.path}: stored length differs from file length`);
      files.set(head.path, stored.slice());
      continue;
    }
    // bounded inflate: a small bundle must not expand into a huge model.json
    if (head.original > DEFAULT_LIMITS.maxModelJsonBytes)
      throw new BundleInvalid(`${head.path} would inflate to ${head.original} bytes`);
    let inflated: Uint8Array;
    try {
      inflated = new Uint8Array(inflateRawSync(stored, { maxOutputLength: Math.max(1, head.original) }));
    } catch (error) {
      throw new BundleInvalid(`${head.path} does not inflate`, { cause: error });
    }
    if (inflated.length !== head.original) throw new BundleInvalid(`${head.path} inflates to the wrong length`);
    files.set(head.path, inflated);
  }
  if (offset !== bundle.length) throw new BundleInvalid('trailing bytes');
  if (heads[0]?.path !== MODEL_JSON) throw new BundleInvalid('model.json must come first');
  return files;
}

export function encodeBundle(artifact: ModelArtifact): Uint8Array {
  return packBundle(artifactFiles(artifact));
}

/** Unpacks and fully validates (same checks as an upload). */
export function decodeBundle(bundle: Uint8Array, options: ReadOptions = {}): ModelArtifact {
  return readArtifact(unpackBundle(bundle), options);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** sha256 (hex) of the canonical bundle of an artifact. */
export function bundleSha256(artifact: ModelArtifact): string {
  return sha256Hex(encodeBundle(artifact));
}
