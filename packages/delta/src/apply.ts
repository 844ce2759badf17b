/**
 * applyDelta: old bundle + delta -> the new bundle, byte for byte. The delta is untrusted: every
 * size it declares is checked against what is left of the delta and against the declared new bundle
 * size (itself bounded) before anything is allocated, every loop consumes delta bytes, and any failure
 * is one of three errors: MF_ERR_DELTA_BASE_MISMATCH (not our old bundle), MF_ERR_DELTA_CORRUPT,
 * MF_ERR_DELTA_RESULT_MISMATCH (the rebuilt bundle's sha256 is not the one the delta names).
 *
 * Memory: the old bundle, the new bundle's files (at most the declared new size, itself at most
 * maxBundleBytes), the new bundle, plus one tensor's planes at a time.
 */
import {
  DEFAULT_LIMITS,
  MODEL_JSON,
  isSafeShardPath,
  packBundle,
  sha256Hex,
  unpackBundle,
} from '@modelfleet/model-format';
import { isModelFleetError } from '@modelfleet/errors';
import { ByteReader } from './bytes.js';
import { decodePlane } from './codec.js';
import { readContainer } from './container.js';
import { JSON_MODE, OP } from './encode.js';
import { DeltaBaseMismatch, DeltaCorrupt, DeltaResultMismatch } from './errors.js';
import {
  OLD_ENCODING,
  type OldEncoding,
  applyFactors,
  oldValues,
  predictAffine8,
  predictFloat16,
  predictInt8,
} from './requant.js';
import { patchBytes } from './text-diff.js';
import {
  ELEMENT,
  ELEMENT_WIDTH,
  type ElementKind,
  TRANSFORM,
  type TransformId,
  type TransformParams,
  reconstruct,
  fromChannelMajor,
  transformAllowed,
  unshuffle,
} from './transforms.js';

export interface ApplyOptions {
  /** Largest new bundle the applier will build (default: the artifact limits, 520 MiB). */
  readonly maxBundleBytes?: number;
}

const DEFAULT_MAX_BUNDLE = DEFAULT_LIMITS.maxTotalWeightBytes + DEFAULT_LIMITS.maxModelJsonBytes;
/** A program spends at most ~60 bytes per tensor (4,096 tensors at most) plus shard paths. */
const MAX_PROGRAM_BYTES = 4 * 1024 * 1024;
/** A copy/add difference is at most the new model.json plus a few bytes per instruction. */
const MAX_JSON_DIFF_BYTES = 2 * DEFAULT_LIMITS.maxModelJsonBytes;
const OWN_CODES = new Set([DeltaBaseMismatch.code, DeltaCorrupt.code, DeltaResultMismatch.code]);

class Planes {
  private readonly reader: ByteReader;
  constructor(data: Uint8Array) {
    this.reader = new ByteReader(data, 'data section');
  }
  next(program: ByteReader, rawLength: number, what: string): Uint8Array {
    const codec = program.u8();
    const stored = program.varint();
    if (stored > this.reader.remaining) throw new DeltaCorrupt(`${what} runs past the data section`);
    return decodePlane(codec, this.reader.take(stored), rawLength, what);
  }
  get done(): boolean {
    return this.reader.done;
  }
}

function readParams(program: ByteReader, transform: number): TransformParams {
  if (transform === TRANSFORM.affine)
    return {
      transform,
      oldScale: program.f64(),
      oldMin: program.f64(),
      newScale: program.f64(),
      newMin: program.f64(),
    };
  if (transform === TRANSFORM.channel)
    return { transform, oldScales: new Float32Array(0), newScales: new Float32Array(0) };
  return { transform: transform as 0 | 1 | 2 };
}

function readFloat32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.slice().buffer);
}

/** The prediction of a requantized segment: the old values on the new grid (requant.ts). */
function requantParams(
  program: ByteReader,
  kind: ElementKind,
  source: RequantSource,
  count: number,
  index: number,
  firstSegment: { kind: ElementKind; bytes: Uint8Array } | undefined,
  name: string,
): TransformParams {
  const grid = kind === ELEMENT.u8 ? { scale: program.f64(), min: program.f64() } : undefined;
  const hasFactors = program.u8();
  if (hasFactors > 1) throw new DeltaCorrupt(`${name}: bad factors flag`);
  let factors: Float32Array | undefined;
  if (hasFactors === 1) {
    const channels = program.varint();
    if (channels === 0 || channels > count) throw new DeltaCorrupt(`${name}: bad factor count`);
    factors = readFloat32(program.take(4 * channels));
  }
  const elements = count / ELEMENT_WIDTH[kind]!;
  const values = oldValues(source.bytes, source.encoding, elements);
  if (values === undefined) throw new DeltaCorrupt(`${name}: the old tensor does not hold ${elements} values`);
  if (factors !== undefined) applyFactors(values, factors);
  if (grid !== undefined)
    return { transform: TRANSFORM.requant, predicted: predictAffine8(values, grid.scale, grid.min) };
  if (kind === ELEMENT.f16) return { transform: TRANSFORM.requant, predicted: predictFloat16(values) };
  if (index !== 1 || firstSegment?.kind !== ELEMENT.f32 || firstSegment.bytes.length === 0)
    throw new DeltaCorrupt(`${name}: int8 prediction without a scales segment`);
  return { transform: TRANSFORM.requant, predicted: predictInt8(values, readFloat32(firstSegment.bytes)) };
}

/** The old tensor of another encoding a requantized tensor is predicted from. */
interface RequantSource {
  readonly bytes: Uint8Array;
  readonly encoding: OldEncoding;
}

function readOldEncoding(program: ByteReader): OldEncoding {
  const kind = program.u8();
  if (kind === OLD_ENCODING.float32 || kind === OLD_ENCODING.float16) return { kind };
  if (kind === OLD_ENCODING.affine8) return { kind, scale: program.f64(), min: program.f64() };
  if (kind === OLD_ENCODING.int8PerChannel) return { kind, channels: program.varint() };
  throw new DeltaCorrupt(`unknown old encoding ${kind}`);
}

/**
 * One tensor of `length` bytes into `out` at `at`. `old` is the old tensor's bytes for a difference,
 * `source` the old tensor of another encoding for a requantized one.
 */
function applyTensor(
  program: ByteReader,
  planes: Planes,
  out: Uint8Array,
  at: number,
  length: number,
  old: Uint8Array | undefined,
  name: string,
  source?: RequantSource,
): void {
  const segmentCount = program.varint();
  if (segmentCount === 0 && length !== 0) throw new DeltaCorrupt(`${name} has no segments`);
  let offset = 0;
  let firstSegment: { kind: ElementKind; bytes: Uint8Array } | undefined;
  for (let s = 0; s < segmentCount; s++) {
    const kind = program.u8();
    if (kind >= ELEMENT_WIDTH.length) throw new DeltaCorrupt(`${name}: unknown element kind ${kind}`);
    const width = ELEMENT_WIDTH[kind]!;
    const segLength = program.varint();
    if (segLength > length - offset || segLength % width !== 0)
      throw new DeltaCorrupt(`${name}: segment length ${segLength} does not fit`);
    const transform = program.u8();
    if (transform > TRANSFORM.requant || !transformAllowed(kind as ElementKind, transform as TransformId))
      throw new DeltaCorrupt(`${name}: transform ${transform} on element kind ${kind}`);
    if (transform === TRANSFORM.requant ? source === undefined : transform !== TRANSFORM.none && old === undefined)
      throw new DeltaCorrupt(`${name}: transform ${transform} without the old tensor it needs`);
    let params =
      transform === TRANSFORM.requant
        ? requantParams(program, kind as ElementKind, source!, segLength, s, firstSegment, name)
        : readParams(program, transform);
    const base = old?.subarray(offset, offset + segLength);
    if (params.transform === TRANSFORM.channel) {
      if (s !== 1 || firstSegment?.kind !== ELEMENT.f32 || firstSegment.bytes.length === 0)
        throw new DeltaCorrupt(`${name}: channel prediction without a scales segment`);
      params = {
        transform: TRANSFORM.channel,
        oldScales: readFloat32(old!.subarray(0, firstSegment.bytes.length)),
        newScales: readFloat32(firstSegment.bytes),
      };
    }
    // residual layout: 0 as is, 1 one plane per byte of the element, 2 channel-major (one-byte elements)
    const mode = program.u8();
    if (mode > 2 || (mode === 2 && width !== 1)) throw new DeltaCorrupt(`${name}: bad plane layout ${mode}`);
    const channels = mode === 2 ? program.varint() : 1;
    if (channels === 0 || segLength % channels !== 0) throw new DeltaCorrupt(`${name}: bad channel count`);
    const planeCount = mode === 1 ? width : 1;
    const parts: Uint8Array[] = [];
    for (let p = 0; p < planeCount; p++) parts.push(planes.next(program, segLength / planeCount, name));
    const residual =
      mode === 1 ? unshuffle(parts, width) : mode === 2 ? fromChannelMajor(parts[0]!, channels) : parts[0]!;
    const bytes = reconstruct(kind as ElementKind, params, residual, base ?? residual);
    out.set(bytes, at + offset);
    if (s === 0) firstSegment = { kind: kind as ElementKind, bytes };
    offset += segLength;
  }
  if (offset !== length) throw new DeltaCorrupt(`${name}: segments cover ${offset} of ${length} bytes`);
}

function rebuild(oldBundle: Uint8Array, program: ByteReader, planes: Planes, maxNew: number): Uint8Array {
  let oldFiles: Map<string, Uint8Array>;
  try {
    oldFiles = unpackBundle(oldBundle);
  } catch (error) {
    throw new DeltaCorrupt('the base bundle does not unpack', { cause: error });
  }
  let budget = maxNew;
  const spend = (bytes: number, what: string) => {
    if (bytes > budget) throw new DeltaCorrupt(`${what} exceeds the declared new bundle size`);
    budget -= bytes;
  };

  const jsonMode = program.u8();
  const jsonLength = program.varint();
  const jsonRaw = program.varint();
  // model.json is deflated inside the bundle, so its raw length is bounded apart from the shards
  if (jsonLength > DEFAULT_LIMITS.maxModelJsonBytes) throw new DeltaCorrupt('model.json is too large');
  let modelJson: Uint8Array;
  if (jsonMode === JSON_MODE.whole) {
    if (jsonRaw !== jsonLength) throw new DeltaCorrupt('model.json length');
    modelJson = planes.next(program, jsonRaw, 'model.json');
  } else if (jsonMode === JSON_MODE.diff) {
    if (jsonRaw > MAX_JSON_DIFF_BYTES) throw new DeltaCorrupt('model.json difference is too large');
    const instructions = planes.next(program, jsonRaw, 'model.json difference');
    modelJson = patchBytes(oldFiles.get(MODEL_JSON) ?? new Uint8Array(0), instructions, jsonLength);
  } else throw new DeltaCorrupt(`unknown model.json mode ${jsonMode}`);

  const files = new Map<string, Uint8Array>([[MODEL_JSON, modelJson]]);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let expectedOld = 0;
  const groupCount = program.varint();
  for (let g = 0; g < groupCount; g++) {
    const shardCount = program.varint();
    const shards: { path: string; length: number }[] = [];
    let groupLength = 0;
    for (let k = 0; k < shardCount; k++) {
      const pathBytes = program.take(program.varint());
      let path: string;
      try {
        path = decoder.decode(pathBytes);
      } catch (error) {
        throw new DeltaCorrupt('a shard path is not UTF-8', { cause: error });
      }
      if (!isSafeShardPath(path) || files.has(path) || shards.some((s) => s.path === path))
        throw new DeltaCorrupt(`shard path ${JSON.stringify(path)}`);
      const length = program.varint();
      spend(length, `shard ${path}`);
      shards.push({ path, length });
      groupLength += length;
    }
    const groupData = new Uint8Array(groupLength);
    let at = 0;
    // an operation builds one tensor, or copies a run of tensors unchanged from the old bundle
    const opCount = program.varint();
    for (let i = 0; i < opCount; i++) {
      const length = program.varint();
      if (length > groupLength - at) throw new DeltaCorrupt(`operation ${i} of group ${g} overruns its shards`);
      const op = program.u8();
      const name = `operation ${i} of group ${g}`;
      if (op === OP.ref || op === OP.diff) {
        const from = expectedOld + program.svarint();
        if (from < 0 || from + length > oldBundle.length) throw new DeltaCorrupt(`${name} refers outside the base`);
        expectedOld = from + length;
        const old = oldBundle.subarray(from, from + length);
        if (op === OP.ref) groupData.set(old, at);
        else applyTensor(program, planes, groupData, at, length, old, name);
      } else if (op === OP.requant) {
        const from = expectedOld + program.svarint();
        const oldLength = program.varint();
        if (from < 0 || from + oldLength > oldBundle.length) throw new DeltaCorrupt(`${name} refers outside the base`);
        expectedOld = from + oldLength;
        const encoding = readOldEncoding(program);
        const source = { bytes: oldBundle.subarray(from, from + oldLength), encoding };
        applyTensor(program, planes, groupData, at, length, undefined, name, source);
      } else if (op === OP.whole) applyTensor(program, planes, groupData, at, length, undefined, name);
      else throw new DeltaCorrupt(`${name}: unknown op ${op}`);
      at += length;
    }
    if (at !== groupLength) throw new DeltaCorrupt(`group ${g}: tensors cover ${at} of ${groupLength} bytes`);
    let cut = 0;
    for (const shard of shards) {
      files.set(shard.path, groupData.subarray(cut, cut + shard.length));
      cut += shard.length;
    }
  }
  if (!program.done) throw new DeltaCorrupt('program has trailing bytes');
  if (!planes.done) throw new DeltaCorrupt('data section has unused bytes');
  return packBundle(files);
}

export function applyDelta(oldBundle: Uint8Array, delta: Uint8Array, options: ApplyOptions = {}): Uint8Array {
  try {
    const { header, program, data } = readContainer(delta);
    if (oldBundle.length !== header.fromSize || sha256Hex(oldBundle) !== header.fromSha256)
      throw new DeltaBaseMismatch(header.fromSha256, sha256Hex(oldBundle));
    const maxNew = options.maxBundleBytes ?? DEFAULT_MAX_BUNDLE;
    if (header.toSize > maxNew) throw new DeltaCorrupt(`new bundle of ${header.toSize} bytes exceeds ${maxNew}`);
    if (header.programRawBytes > MAX_PROGRAM_BYTES) throw new DeltaCorrupt('program is too large');
    const programRaw = decodePlane(1, program, header.programRawBytes, 'program');
    const result = rebuild(oldBundle, new ByteReader(programRaw, 'program'), new Planes(data), header.toSize);
    const sha = sha256Hex(result);
    if (result.length !== header.toSize || sha !== header.toSha256) throw new DeltaResultMismatch(sha, header.toSha256);
    return result;
  } catch (error) {
    if (isModelFleetError(error) && OWN_CODES.has(error.code)) throw error;
    throw new DeltaCorrupt('cannot be applied', { cause: error });
  }
}
