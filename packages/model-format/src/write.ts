/**
 * writeArtifact: ModelArtifact -> model.json text + weight shards in the layout the TF.js converter
 * uses (one group, `group1-shard{i}of{n}.bin`, shards cut every 4 MiB regardless of tensor boundaries,
 * which tfjs-core re-joins before decoding). Output is deterministic: canonical JSON, tensors in order.
 */
import { canonicalJson } from '@modelfleet/signing';
import { ModelJsonInvalid, TensorPayloadInvalid } from './errors.js';
import { layoutOfEntry, manifestEntryOf } from './manifest.js';
import { MODEL_JSON } from './read.js';
import type { ModelArtifact, TensorRecord } from './types.js';
import { validateTensor } from './validate-tensor.js';

export const DEFAULT_SHARD_BYTES = 4 * 1024 * 1024;

export interface WrittenArtifact {
  /** model.json as UTF-8 text. */
  readonly modelJson: string;
  /** Shard path (relative to model.json) -> bytes, in manifest order. */
  readonly shards: Map<string, Uint8Array>;
}

export interface WriteOptions {
  readonly shardBytes?: number;
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** The record's mirrored parameters must be the ones its bytes hold (records are built by pack*). */
function checkRecord(t: TensorRecord): void {
  const entry = manifestEntryOf(t);
  const { layout } = layoutOfEntry(entry.dtype, entry.shape, entry.quantization);
  const parsed = validateTensor(t.name, t.shape, t.dtype, layout, t.bytes).encoding;
  const e = t.encoding;
  const consistent =
    ((e.kind === 'int8-per-channel' || e.kind === 'sparse-rans') &&
      'scales' in parsed &&
      sameNumbers(e.scales, parsed.scales)) ||
    (e.kind === 'palette' && 'centroids' in parsed && sameNumbers(e.centroids, parsed.centroids)) ||
    (e.kind !== 'int8-per-channel' && e.kind !== 'sparse-rans' && e.kind !== 'palette');
  if (!consistent) throw new TensorPayloadInvalid(t.name, 'encoding parameters differ from the payload');
}

export function writeArtifact(artifact: ModelArtifact, options: WriteOptions = {}): WrittenArtifact {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  const names = new Set<string>();
  for (const t of artifact.tensors) {
    if (names.has(t.name)) throw new ModelJsonInvalid(`weight ${t.name} is listed twice`);
    names.add(t.name);
    checkRecord(t);
  }
  const total = artifact.tensors.reduce((sum, t) => sum + t.bytes.length, 0);
  const data = new Uint8Array(total);
  let offset = 0;
  for (const t of artifact.tensors) {
    data.set(t.bytes, offset);
    offset += t.bytes.length;
  }
  const shardCount = Math.max(1, Math.ceil(total / shardBytes));
  const shards = new Map<string, Uint8Array>();
  for (let i = 0; i < shardCount; i++)
    shards.set(
      `group1-shard${i + 1}of${shardCount}.bin`,
      data.slice(i * shardBytes, Math.min(total, (i + 1) * shardBytes)),
    );
  const modelJson = canonicalJson({
    ...artifact.modelJson,
    format: 'layers-model',
    weightsManifest: [{ paths: [...shards.keys()], weights: artifact.tensors.map(manifestEntryOf) }],
  });
  return { modelJson, shards };
}

/** The written artifact as the file map readArtifact takes. */
export function artifactFiles(artifact: ModelArtifact, options: WriteOptions = {}): Map<string, Uint8Array> {
  const written = writeArtifact(artifact, options);
  return new Map([[MODEL_JSON, new TextEncoder().encode(written.modelJson)], ...written.shards]);
}
