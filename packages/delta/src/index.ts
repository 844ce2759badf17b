/**
 * @modelfleet/delta — tensor-aware deltas between two canonical model bundles ('mfdelta/1', see
 * docs/delta-format.md). Node built-ins only (brotli, crc32, sha256) plus model-format's bundle
 * parsing: the device agent imports it, so no TF.js.
 *
 *   encodeDelta(oldBundle, newBundle, options?) -> { bytes, stats }     (server side)
 *   applyDelta(oldBundle, delta, options?) -> new bundle, byte for byte (device side; sha256 checked)
 *   inspectDelta(delta) -> header: format, from/to sha256 and sizes
 */
export * from './errors.js';
export { DELTA_FORMAT, DELTA_VERSION, type DeltaHeader, inspectDelta } from './container.js';
export {
  type DeltaStats,
  type EncodeOptions,
  type EncodedDelta,
  type TensorChoice,
  type TensorStat,
  encodeDelta,
} from './encode.js';
export { type ApplyOptions, applyDelta } from './apply.js';
