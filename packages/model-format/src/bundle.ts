/**
 * The canonical single-file bundle: exactly the files writeArtifact produces (model.json first, then
 * the shards in manifest order) behind a small header. Deterministic, so its sha256 identifies every
 * byte a device installs; unpacking gives back those files byte for byte.
 *
 *   "MFBUNDLE" | u32 LE version (1) | u32 LE file count
 *   per file: u16 LE path length | path (UTF-8) | u32 LE byte length
 *   file contents, concatenated in the same order
 */
import { createHash } from 'node:crypto';
import { BundleInvalid } from './errors.js';
import { MODEL_JSON, type ReadOptions, isSafeShardPath, readArtifact } from './read.js';
import type { ModelArtifact } from './types.js';
import { artifactFiles } from './write.js';

const MAGIC = 'MFBUNDLE';
const VERSION = 1;
const MAX_FILES = 4096;

export function packBundle(files: ReadonlyMap<string, Uint8Array>): Uint8Array {
  const encoder = new TextEncoder();
  const entries = [...files].map(([path, bytes]) => ({ path: encoder.encode(path), bytes }));
  const headerLength = 16 + entries.reduce((sum, e) => sum + 6 + e.path.length, 0);
  const total = headerLength + entries.reduce((sum, e) => sum + e.bytes.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(encoder.encode(MAGIC), 0);
  view.setUint32(8, VERSION, true);
  view.setUint32(12, entries.length, true);
  let offset = 16;
  for (const e of entries) {
    view.setUint16(offset, e.path.length, true);
    out.set(e.path, offset + 2);
    view.setUint32(offset + 2 + e.path.length, e.bytes.length, true);
    offset += 6 + e.path.length;
  }
  for (const e of entries) {
    out.set(e.bytes, offset);
    offset += e.bytes.length;
  }
  return out;
}

/** The files inside a bundle (model.json + shards), for installing them on disk. */
export function unpackBundle(bundle: Uint8Array): Map<string, Uint8Array> {
  if (bundle.length < 16 || new TextDecoder().decode(bundle.subarray(0, 8)) !== MAGIC) throw new BundleInvalid('bad magic');
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) throw new BundleInvalid(`unknown version ${version}`);
  const count = view.getUint32(12, true);
  if (count === 0 || count > MAX_FILES) throw new BundleInvalid(`file count ${count}`);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const heads: { path: string; length: number }[] = [];
  let offset = 16;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bundle.length) throw new BundleInvalid('truncated header');
    const pathLength = view.getUint16(offset, true);
    if (offset + 6 + pathLength > bundle.length) throw new BundleInvalid('truncated header');
    let path: string;
    try {
      path = decoder.decode(bundle.subarray(offset + 2, offset + 2 + pathLength));
    } catch (error) {
      throw new BundleInvalid('path is not UTF-8', { cause: error });
    }
    if (!isSafeShardPath(path)) throw new BundleInvalid(`unsafe path ${path}`);
    heads.push({ path, length: view.getUint32(offset + 2 + pathLength, true) });
    offset += 6 + pathLength;
  }
  const files = new Map<string, Uint8Array>();
  for (const head of heads) {
    if (offset + head.length > bundle.length) throw new BundleInvalid('truncated contents');
    if (files.has(head.path)) throw new BundleInvalid(`file ${head.path} appears twice`);
    files.set(head.path, bundle.slice(offset, offset + head.length));
    offset += head.length;
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
