/**
 * Where things sit inside a canonical bundle (see @modelfleet/model-format bundle.ts): the offset of
 * each stored file, and from the weights manifest the byte range of every tensor. Shards of a group
 * are stored uncompressed one after the other, so each tensor is one contiguous range of the bundle
 * even when it spans shards; that range is what a delta references.
 */
import { MODEL_JSON } from '@modelfleet/model-format';

export interface BundleFile {
  readonly path: string;
  readonly codec: number;
  readonly offset: number;
  readonly stored: number;
}

/** File table of a bundle that unpackBundle has already accepted. */
export function bundleFiles(bundle: Uint8Array): BundleFile[] {
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const count = view.getUint32(12, true);
  const decoder = new TextDecoder();
  const heads: { path: string; codec: number; stored: number }[] = [];
  let offset = 16;
  for (let i = 0; i < count; i++) {
    const pathLength = view.getUint16(offset, true);
    const path = decoder.decode(bundle.subarray(offset + 2, offset + 2 + pathLength));
    offset += 2 + pathLength;
    heads.push({ path, codec: view.getUint8(offset), stored: view.getUint32(offset + 1, true) });
    offset += 9;
  }
  return heads.map((head) => {
    const file = { ...head, offset };
    offset += head.stored;
    return file;
  });
}

export interface ManifestGroup {
  readonly paths: readonly string[];
  readonly weights: readonly string[];
}

/** The weights manifest's groups (paths and weight names in order) of a model.json readArtifact accepted. */
export function manifestGroups(modelJson: Uint8Array): ManifestGroup[] {
  const parsed = JSON.parse(new TextDecoder().decode(modelJson)) as {
    weightsManifest: { paths: string[]; weights: { name: string }[] }[];
  };
  return parsed.weightsManifest.map((group) => ({
    paths: group.paths,
    weights: group.weights.map((w) => w.name),
  }));
}

/**
 * Bundle offset of every tensor whose group is stored contiguously (always, for bundles packBundle
 * wrote). `lengths` gives each tensor's byte length.
 */
export function tensorOffsets(
  bundle: Uint8Array,
  modelJson: Uint8Array,
  lengths: ReadonlyMap<string, number>,
): Map<string, number> {
  const files = bundleFiles(bundle);
  const byPath = new Map(files.map((f, index) => [f.path, { ...f, index }]));
  const offsets = new Map<string, number>();
  if (files[0]?.path !== MODEL_JSON) return offsets;
  for (const group of manifestGroups(modelJson)) {
    const shards = group.paths.map((p) => byPath.get(p));
    const contiguous = shards.every(
      (s, k) => s !== undefined && s.codec === 0 && (k === 0 || s.index === shards[k - 1]!.index + 1),
    );
    if (!contiguous || shards.length === 0) continue;
    let at = shards[0]!.offset;
    for (const name of group.weights) {
      offsets.set(name, at);
      at += lengths.get(name) ?? 0;
    }
  }
  return offsets;
}
