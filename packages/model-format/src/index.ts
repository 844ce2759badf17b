/**
 * @modelfleet/model-format — TF.js LayersModel artifacts: read + validate, tensor table, write any
 * encoding, canonical bundle, stock float materialisation. No runtime dependency on TF.js.
 *
 * Public face (the seams agreed with quantize / evaluate / delta):
 *   readArtifact(files: Map<string, Uint8Array>, options?): ModelArtifact        throws MF_ERR_…
 *   decodeTensor(t: TensorRecord): Float32Array
 *   writeArtifact(a, options?): { modelJson: string, shards: Map<string, Uint8Array> }
 *   artifactFiles(a): Map<string, Uint8Array>                                      (model.json + shards)
 *   encodeBundle(a): Uint8Array / decodeBundle(bytes): ModelArtifact / bundleSha256(a): string
 *   unpackBundle(bytes) / packBundle(files)                                        (agent install)
 *   toTfjsArtifacts(a, { dtype: 'float32' | 'float16' }) -> tfjs io.ModelArtifacts-shaped object
 *   materializeStock(a, { dtype }): ModelArtifact                                  (stock float copy)
 *   tensorTable(a): TensorTableRow[]; listLayers(topology): LayerInfo[]; expectedWeights(layer)
 *   pack*(…) builders for every encoding (used by quantize), float16 helpers, rANS codec.
 */
export * from './errors.js';
export type {
  ActivationRanges,
  AffineQuantParams,
  ArtifactLimits,
  Encoding,
  EncodingKind,
  ModelArtifact,
  ModelJson,
  ModelfleetMetadata,
  TensorDecision,
  TensorDtype,
  TensorRecord,
} from './types.js';
export { DEFAULT_LIMITS } from './types.js';
export { MODEL_JSON, type ReadOptions, isSafeShardPath, readArtifact } from './read.js';
export { DEFAULT_SHARD_BYTES, type WriteOptions, type WrittenArtifact, artifactFiles, writeArtifact } from './write.js';
export { bundleSha256, decodeBundle, encodeBundle, packBundle, sha256Hex, unpackBundle } from './bundle.js';
export { type StockFloatDtype, type TfjsModelArtifacts, materializeStock, toTfjsArtifacts } from './stock.js';
export { type TensorTableRow, tensorTable } from './tensor-table.js';
export {
  type ExpectedWeight,
  type LayerInfo,
  SUPPORTED_LAYER_CLASSES,
  type WeightRole,
  expectedWeights,
  listLayers,
  splitWeightName,
} from './topology.js';
export {
  channelCount,
  decodeTensor,
  elementCount,
  int8Symbols,
  packAffine,
  packFloat16,
  packFloat32,
  packInt8PerChannel,
  packPalette,
  packSparseRans,
} from './payload.js';
export { FLOAT16_MAX, encodeFloat16, float16BitsToFloat32, float32ToFloat16Bits } from './float16.js';
export { type ManifestEntry, OWN_QUANTIZATION_DTYPES, manifestEntryOf } from './manifest.js';
// One canonical JSON for the project: what model.json is written with is what manifests are signed over.
export { canonicalJson } from '@modelfleet/signing';
export { ransDecode, ransEncode } from './rans.js';
