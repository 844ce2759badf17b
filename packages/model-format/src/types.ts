/**
 * The in-memory shape of a TF.js LayersModel artifact as ModelFleet handles it: model.json (minus the
 * weights manifest, which is derived from the tensors on write) and one record per weight tensor.
 */

/** Element dtype of a weight as the model sees it after decoding. */
export type TensorDtype = 'float32' | 'int32';

/**
 * How a tensor's values are stored in its bytes.
 * - `float32` / `int32`: raw little-endian values (stock TF.js, no `quantization`).
 * - `float16`: IEEE half, stock TF.js `quantization: {dtype: 'float16'}`.
 * - `affine`: stock TF.js `quantization: {dtype: 'uint8' | 'uint16', scale, min}`; value = q*scale + min.
 * - ours (stock TF.js refuses them; this package decodes them), marked `quantization.dtype = 'mf-…'`:
 *   - `int8-per-channel`: symmetric int8, value = q * scales[c] where c is the channel along `axis`;
 *   - `palette`: 2^bits float32 centroids per tensor plus packed indices (weight clustering);
 *   - `sparse-rans`: per-channel symmetric int8 symbols (mostly zeros after magnitude pruning),
 *     entropy coded with rANS.
 * Parameters that live in the payload (scales, centroids) are mirrored here, parsed from `bytes`.
 */
export type Encoding =
  | { readonly kind: 'float32' }
  | { readonly kind: 'int32' }
  | { readonly kind: 'float16' }
  | { readonly kind: 'affine'; readonly bits: 8 | 16; readonly scale: number; readonly min: number }
  | { readonly kind: 'int8-per-channel'; readonly axis: number; readonly scales: readonly number[] }
  | { readonly kind: 'palette'; readonly bits: 4 | 8; readonly centroids: readonly number[] }
  | { readonly kind: 'sparse-rans'; readonly axis: number; readonly scales: readonly number[] };

export type EncodingKind = Encoding['kind'];

export interface TensorRecord {
  /** Weight name as in the manifest, e.g. `conv_pw_1/kernel`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: TensorDtype;
  readonly encoding: Encoding;
  /** Exactly the bytes this tensor occupies in the weight shards. */
  readonly bytes: Uint8Array;
}

/** Per-tensor affine activation quantization (int8 or uint8), as TFLite stores it. */
export interface AffineQuantParams {
  readonly dtype: 'int8' | 'uint8';
  readonly scale: number;
  readonly zeroPoint: number;
  /** The calibrated float range the parameters were derived from. */
  readonly min: number;
  readonly max: number;
}

/** Calibrated activation ranges (computed by evaluate's `calibrateActivations`, consumed by quantize). */
export interface ActivationRanges {
  readonly method: 'minmax' | 'percentile';
  readonly percentile?: number;
  readonly input: { readonly min: number; readonly max: number };
  readonly layers: Readonly<Record<string, { readonly min: number; readonly max: number }>>;
}

/** Why a tensor was (or was not) transformed by a quantizer. */
export interface TensorDecision {
  readonly tensor: string;
  readonly layer: string;
  readonly layerClass: string;
  /**
   * `quantized`: re-encoded; `kept`: byte-for-byte the input tensor; `folded`: a batch-norm tensor
   * merged into the preceding layer (and removed); `rewritten`: a float32 tensor that batch-norm folding
   * created or changed (a bias, or a folded kernel left unquantized).
   */
  readonly action: 'quantized' | 'kept' | 'folded' | 'rewritten';
  readonly encoding: EncodingKind;
  readonly reason: string;
}

/** ModelFleet's own metadata, stored in model.json under `modelfleet` (stock TF.js ignores it). */
export interface ModelfleetMetadata {
  readonly version: 1;
  /** Candidate id, e.g. `theta2-int8-full`. */
  readonly variant?: string;
  readonly decisions?: readonly TensorDecision[];
  /** theta2/theta3: calibrated ranges and the int8 activation parameters derived from them. */
  readonly activationRanges?: ActivationRanges;
  readonly activationQuantization?: Readonly<Record<string, AffineQuantParams>>;
  /** theta2: float input quantized inside the model; theta3: the caller feeds uint8 directly. */
  readonly inputQuantization?: AffineQuantParams & { readonly integerInput: boolean };
  readonly outputQuantization?: AffineQuantParams & { readonly integerOutput: boolean };
  readonly [extra: string]: unknown;
}

/** model.json without `weightsManifest`. Unknown top-level keys are kept as they were. */
export interface ModelJson {
  readonly format: 'layers-model';
  readonly modelTopology: Readonly<Record<string, unknown>>;
  readonly generatedBy?: string;
  readonly convertedBy?: string | null;
  readonly modelfleet?: ModelfleetMetadata;
  readonly [extra: string]: unknown;
}

export interface ModelArtifact {
  readonly modelJson: ModelJson;
  readonly tensors: readonly TensorRecord[];
}

/** Bounds applied to untrusted artifacts (uploads). */
export interface ArtifactLimits {
  readonly maxModelJsonBytes: number;
  readonly maxTotalWeightBytes: number;
  readonly maxTensors: number;
  readonly maxTensorElements: number;
  readonly maxRank: number;
  readonly maxShards: number;
  readonly maxLayers: number;
}

/** MobileNet-v1 at alpha 1.0 holds 4.2 M parameters (17 MB float32); these leave ample room. */
export const DEFAULT_LIMITS: ArtifactLimits = {
  maxModelJsonBytes: 8 * 1024 * 1024,
  maxTotalWeightBytes: 512 * 1024 * 1024,
  maxTensors: 4096,
  maxTensorElements: 64 * 1024 * 1024,
  maxRank: 6,
  maxShards: 1024,
  maxLayers: 2048,
};
