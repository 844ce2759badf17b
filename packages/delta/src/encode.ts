/**
 * encodeDelta: old bundle + new bundle -> an 'mfdelta/1' delta (layout in container.ts and
 * docs/delta-format.md). Per tensor of the new artifact, the smallest of: a reference to an identical
 * old tensor; a difference against the old tensor of the same name, shape and encoding, the transform
 * chosen per segment by compressed size; the compressed tensor itself.
 */
import {
  MODEL_JSON,
  type TensorRecord,
  decodeTensor,
  elementCount,
  packBundle,
  readArtifact,
  sha256Hex,
  unpackBundle,
} from '@modelfleet/model-format';
import { ByteWriter } from './bytes.js';
import { type EncodedPlane, brotli, encodePlane, finalPlane, trialPlane } from './codec.js';
import { writeContainer } from './container.js';
import { DeltaInputUnsupported } from './errors.js';
import { manifestGroups, tensorOffsets } from './layout.js';
import { type SegmentLayout, segmentsOf } from './segments.js';
import { diffBytes } from './text-diff.js';
import {
  OLD_ENCODING,
  type OldEncoding,
  applyFactors,
  channelFactors,
  oldValues,
  predictAffine8,
  predictFloat16,
  predictInt8,
} from './requant.js';
import {
  ELEMENT,
  ELEMENT_WIDTH,
  TRANSFORM,
  type TransformParams,
  residualOf,
  shuffle,
  toChannelMajor,
  transformAllowed,
} from './transforms.js';

export const OP = { ref: 0, whole: 1, diff: 2, requant: 3 } as const;
export const JSON_MODE = { whole: 0, diff: 1 } as const;

export interface EncodeOptions {
  /** Brotli quality of the planes written (default 11). */
  readonly quality?: number;
  /** Brotli quality used to compare candidate transforms (default 5; 9 chose the same within 0.01 %). */
  readonly selectionQuality?: number;
}

export type TensorChoice = 'referenced' | 'diffed' | 'raw';

export interface TensorStat {
  readonly name: string;
  readonly choice: TensorChoice;
  /** transform name per segment ('none' | 'xor' | 'sub' | 'affine' | 'channel'), empty when referenced */
  readonly transforms: readonly string[];
  readonly rawBytes: number;
  /** bytes this tensor adds to the data section */
  readonly deltaBytes: number;
}

export interface DeltaStats {
  readonly perTensor: readonly TensorStat[];
  readonly referenced: number;
  readonly diffed: number;
  readonly raw: number;
  /** data bytes spent on model.json, and how it was sent */
  readonly modelJsonBytes: number;
  readonly modelJsonMode: 'whole' | 'diff';
  readonly programBytes: number;
  readonly dataBytes: number;
  readonly totalBytes: number;
  readonly newBundleBytes: number;
}

export interface EncodedDelta {
  readonly bytes: Uint8Array;
  readonly fromSha256: string;
  readonly toSha256: string;
  readonly stats: DeltaStats;
}

const TRANSFORM_NAMES = ['none', 'xor', 'sub', 'affine', 'channel', 'requant'];

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Same name, shape, dtype and encoding kind (quantization parameters may differ), same byte layout. */
function comparable(next: TensorRecord, old: TensorRecord): boolean {
  if (next.dtype !== old.dtype || next.encoding.kind !== old.encoding.kind) return false;
  if (next.shape.length !== old.shape.length || next.shape.some((d, i) => d !== old.shape[i])) return false;
  if (next.bytes.length !== old.bytes.length) return false;
  const a = next.encoding;
  const b = old.encoding;
  if (a.kind === 'affine' && b.kind === 'affine' && a.bits !== b.bits) return false;
  if ('axis' in a && 'axis' in b && a.axis !== b.axis) return false;
  if (a.kind === 'palette' && b.kind === 'palette' && a.bits !== b.bits) return false;
  return true;
}

interface SegmentChoice {
  readonly layout: SegmentLayout;
  readonly params: TransformParams;
  /** 0 as is, 1 byte planes, 2 channel-major with `channels` */
  readonly layoutMode: 0 | 1 | 2;
  readonly channels: number;
  readonly planes: EncodedPlane[];
}

/** A tensor stored in another encoding before, whose values predict the new ones (requant.ts). */
interface CrossEncoding {
  readonly old: OldEncoding;
  readonly valueSegment: number;
  readonly candidates: readonly Extract<TransformParams, { transform: 5 }>[];
}

/** Channels of a tensor for per-channel factors: the trailing dims until there is more than one. */
function trailingChannels(shape: readonly number[]): number {
  let channels = 1;
  for (let d = shape.length - 1; d >= 0 && channels === 1; d--) channels *= shape[d]!;
  return Math.max(1, channels);
}

function crossEncoding(next: TensorRecord, old: TensorRecord): CrossEncoding | undefined {
  if (next.dtype !== 'float32' || old.dtype !== 'float32') return undefined;
  if (next.shape.length !== old.shape.length || next.shape.some((d, i) => d !== old.shape[i])) return undefined;
  const b = old.encoding;
  const oldEncoding: OldEncoding | undefined =
    b.kind === 'float32'
      ? { kind: OLD_ENCODING.float32 }
      : b.kind === 'float16'
        ? { kind: OLD_ENCODING.float16 }
        : b.kind === 'affine' && b.bits === 8
          ? { kind: OLD_ENCODING.affine8, scale: b.scale, min: b.min }
          : b.kind === 'int8-per-channel'
            ? { kind: OLD_ENCODING.int8PerChannel, channels: b.scales.length }
            : undefined;
  if (oldEncoding === undefined) return undefined;
  const values = oldValues(old.bytes, oldEncoding, elementCount(next.shape));
  if (values === undefined || values.length === 0) return undefined;
  const a = next.encoding;
  let predict: (v: Float64Array) => Uint8Array;
  let valueSegment = 0;
  let channels = trailingChannels(next.shape);
  let grid: { newScale?: number; newMin?: number } = {};
  if (a.kind === 'affine' && a.bits === 8) {
    predict = (v) => predictAffine8(v, a.scale, a.min);
    grid = { newScale: a.scale, newMin: a.min };
  } else if (a.kind === 'int8-per-channel') {
    const scales = Float32Array.from(a.scales);
    predict = (v) => predictInt8(v, scales);
    valueSegment = 1;
    channels = scales.length;
  } else if (a.kind === 'float16') predict = predictFloat16;
  else return undefined;
  const factors = channelFactors(values, decodeTensor(next), channels);
  return {
    old: oldEncoding,
    valueSegment,
    candidates: [
      { transform: TRANSFORM.requant, predicted: predict(values), ...grid },
      {
        transform: TRANSFORM.requant,
        predicted: predict(applyFactors(Float64Array.from(values), factors)),
        ...grid,
        factors,
      },
    ],
  };
}

function candidateParams(
  layout: SegmentLayout,
  index: number,
  next: TensorRecord,
  old: TensorRecord | undefined,
  cross: CrossEncoding | undefined,
): TransformParams[] {
  const out: TransformParams[] = [{ transform: TRANSFORM.none }];
  if (cross !== undefined && cross.valueSegment === index) out.push(...cross.candidates);
  if (old === undefined) return out;
  out.push({ transform: TRANSFORM.xor }, { transform: TRANSFORM.sub });
  const a = next.encoding;
  const b = old.encoding;
  if (a.kind === 'affine' && b.kind === 'affine' && transformAllowed(layout.kind, TRANSFORM.affine))
    out.push({ transform: TRANSFORM.affine, oldScale: b.scale, oldMin: b.min, newScale: a.scale, newMin: a.min });
  if (a.kind === 'int8-per-channel' && b.kind === 'int8-per-channel' && index === 1)
    out.push({
      transform: TRANSFORM.channel,
      oldScales: Float32Array.from(b.scales),
      newScales: Float32Array.from(a.scales),
    });
  return out;
}

/** Segments up to this size also try one plane instead of one per byte of the element. */
const SMALL_SEGMENT_BYTES = 4096;

/** Bytes of an unsigned LEB128 varint. */
function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    bytes++;
  }
  return bytes;
}

function chooseSegment(
  layout: SegmentLayout,
  index: number,
  offset: number,
  next: TensorRecord,
  old: TensorRecord | undefined,
  cross: CrossEncoding | undefined,
  options: Required<EncodeOptions>,
): SegmentChoice {
  const width = ELEMENT_WIDTH[layout.kind]!;
  const bytes = next.bytes.subarray(offset, offset + layout.length);
  const base = old?.bytes.subarray(offset, offset + layout.length);
  const channels = width === 1 ? channelsOf(next, index) : 0;
  // Multi-byte elements go in byte planes; a small segment (a bias, a tensor's scales) may be cheaper as one
  // plane, since every plane costs a codec byte and a length in the program.
  const modes: (0 | 1 | 2)[] =
    width > 1
      ? layout.length <= SMALL_SEGMENT_BYTES
        ? [1, 0]
        : [1]
      : channels > 1 && layout.length % channels === 0 && layout.length > channels
        ? [0, 2]
        : [0];
  let best:
    | { params: TransformParams; mode: 0 | 1 | 2; planes: Uint8Array[]; trials: EncodedPlane[]; cost: number }
    | undefined;
  for (const params of candidateParams(layout, index, next, old, cross)) {
    const residual = residualOf(layout.kind, params, bytes, base ?? bytes);
    for (const mode of modes) {
      const planes =
        mode === 1 ? shuffle(residual, width) : [mode === 2 ? toChannelMajor(residual, channels) : residual];
      const trials = planes.map((p) => trialPlane(p, options.selectionQuality));
      const factorBytes = params.transform === TRANSFORM.requant ? 4 * (params.factors?.length ?? 0) : 0;
      // What the choice costs in the delta: the planes' bytes plus their entries in the program.
      const cost = trials.reduce(
        (sum, t) => sum + t.stored.length + 1 + varintBytes(t.stored.length),
        factorBytes + (mode === 2 ? varintBytes(channels) : 0),
      );
      if (best === undefined || cost < best.cost) best = { params, mode, planes, trials, cost };
    }
  }
  return {
    layout,
    params: best!.params,
    layoutMode: best!.mode,
    channels,
    planes: best!.planes.map((p, k) => finalPlane(p, best!.trials[k]!, options.quality)),
  };
}

/** Channel count of a one-byte segment: the per-channel scales' count, else the trailing dims past 1. */
function channelsOf(t: TensorRecord, index: number): number {
  const e = t.encoding;
  if ((e.kind === 'int8-per-channel' || e.kind === 'sparse-rans') && index === 1) return e.scales.length;
  if (e.kind !== 'affine') return 0;
  let channels = 1;
  for (let d = t.shape.length - 1; d >= 0 && channels === 1; d--) channels *= t.shape[d]!;
  return channels;
}

function writePlane(program: ByteWriter, data: Uint8Array[], plane: EncodedPlane): number {
  program.u8(plane.codec);
  program.varint(plane.stored.length);
  data.push(plane.stored);
  return plane.stored.length;
}

function writeSegment(program: ByteWriter, data: Uint8Array[], choice: SegmentChoice): number {
  program.u8(choice.layout.kind);
  program.varint(choice.layout.length);
  program.u8(choice.params.transform);
  if (choice.params.transform === TRANSFORM.affine) {
    program.f64(choice.params.oldScale);
    program.f64(choice.params.oldMin);
    program.f64(choice.params.newScale);
    program.f64(choice.params.newMin);
  }
  if (choice.params.transform === TRANSFORM.requant) {
    if (choice.layout.kind === ELEMENT.u8) {
      program.f64(choice.params.newScale ?? 0);
      program.f64(choice.params.newMin ?? 0);
    }
    const factors = choice.params.factors;
    program.u8(factors === undefined ? 0 : 1);
    if (factors !== undefined) {
      program.varint(factors.length);
      program.bytes(new Uint8Array(factors.buffer, factors.byteOffset, factors.byteLength));
    }
  }
  program.u8(choice.layoutMode);
  if (choice.layoutMode === 2) program.varint(choice.channels);
  return choice.planes.reduce((sum, plane) => sum + writePlane(program, data, plane), 0);
}

export function encodeDelta(oldBundle: Uint8Array, newBundle: Uint8Array, options: EncodeOptions = {}): EncodedDelta {
  const settings: Required<EncodeOptions> = { quality: 11, selectionQuality: 5, ...options };
  const oldFiles = unpackBundle(oldBundle);
  const newFiles = unpackBundle(newBundle);
  if (!equalBytes(packBundle(newFiles), newBundle))
    throw new DeltaInputUnsupported('the new bundle is not in the canonical layout packBundle writes');
  const oldArtifact = readArtifact(oldFiles);
  const newArtifact = readArtifact(newFiles);
  const oldJson = oldFiles.get(MODEL_JSON)!;
  const newJson = newFiles.get(MODEL_JSON)!;

  const oldByName = new Map(oldArtifact.tensors.map((t) => [t.name, t]));
  const oldOffsets = tensorOffsets(
    oldBundle,
    oldJson,
    new Map(oldArtifact.tensors.map((t) => [t.name, t.bytes.length])),
  );
  const oldByContent = new Map<string, number>();
  for (const t of oldArtifact.tensors) {
    const at = oldOffsets.get(t.name);
    const key = sha256Hex(t.bytes);
    if (at !== undefined && !oldByContent.has(key)) oldByContent.set(key, at);
  }
  const newByName = new Map(newArtifact.tensors.map((t) => [t.name, t]));

  const program = new ByteWriter();
  const data: Uint8Array[] = [];

  // model.json: whole (brotli) or a copy/add difference against the old one, whichever is smaller
  const jsonWhole = encodePlane(newJson, settings.quality);
  const jsonDiff = encodePlane(diffBytes(oldJson, newJson), settings.quality);
  const jsonMode = jsonDiff.stored.length < jsonWhole.stored.length ? JSON_MODE.diff : JSON_MODE.whole;
  const jsonPlane = jsonMode === JSON_MODE.diff ? jsonDiff : jsonWhole;
  program.u8(jsonMode);
  program.varint(newJson.length);
  program.varint(jsonPlane.rawLength);
  const modelJsonBytes = writePlane(program, data, jsonPlane);

  const perTensor: TensorStat[] = [];
  let expectedOld = 0;
  const groups = manifestGroups(newJson);
  program.varint(groups.length);
  for (const group of groups) {
    program.varint(group.paths.length);
    for (const path of group.paths) {
      const encoded = new TextEncoder().encode(path);
      program.varint(encoded.length);
      program.bytes(encoded);
      program.varint(newFiles.get(path)!.length);
    }
    // Operations of the group: a run of referenced tensors that are also consecutive in the old
    // bundle becomes one copy (a head-only retrain copies the whole backbone in one operation).
    const ops = new ByteWriter();
    let opCount = 0;
    let pendingCopy: { from: number; length: number } | undefined;
    const flushCopy = () => {
      if (pendingCopy === undefined) return;
      ops.varint(pendingCopy.length);
      ops.u8(OP.ref);
      ops.svarint(pendingCopy.from - expectedOld);
      expectedOld = pendingCopy.from + pendingCopy.length;
      opCount++;
      pendingCopy = undefined;
    };
    for (const name of group.weights) {
      const t = newByName.get(name)!;
      const sameName = oldByName.get(name);
      const identicalAt =
        sameName !== undefined && equalBytes(sameName.bytes, t.bytes) && oldOffsets.has(name)
          ? oldOffsets.get(name)
          : oldByContent.get(sha256Hex(t.bytes));
      if (identicalAt !== undefined) {
        if (pendingCopy !== undefined && pendingCopy.from + pendingCopy.length === identicalAt)
          pendingCopy.length += t.bytes.length;
        else {
          flushCopy();
          pendingCopy = { from: identicalAt, length: t.bytes.length };
        }
        perTensor.push({ name, choice: 'referenced', transforms: [], rawBytes: t.bytes.length, deltaBytes: 0 });
        continue;
      }
      flushCopy();
      opCount++;
      ops.varint(t.bytes.length);
      const sameAt = sameName === undefined ? undefined : oldOffsets.get(name);
      const oldAt = sameName !== undefined && comparable(t, sameName) ? sameAt : undefined;
      const base = oldAt === undefined ? undefined : sameName;
      const cross =
        sameName !== undefined && sameAt !== undefined && oldAt === undefined ? crossEncoding(t, sameName) : undefined;
      const layouts = segmentsOf(t);
      let offset = 0;
      const choices = layouts.map((layout, index) => {
        const choice = chooseSegment(layout, index, offset, t, base, cross, settings);
        offset += layout.length;
        return choice;
      });
      const diffed = oldAt !== undefined && choices.some((c) => c.params.transform !== TRANSFORM.none);
      const requantized = cross !== undefined && choices.some((c) => c.params.transform === TRANSFORM.requant);
      if (diffed) {
        ops.u8(OP.diff);
        ops.svarint(oldAt - expectedOld);
        expectedOld = oldAt + t.bytes.length;
      } else if (requantized) {
        ops.u8(OP.requant);
        ops.svarint(sameAt! - expectedOld);
        ops.varint(sameName!.bytes.length);
        ops.u8(cross.old.kind);
        if (cross.old.kind === OLD_ENCODING.affine8) {
          ops.f64(cross.old.scale);
          ops.f64(cross.old.min);
        } else if (cross.old.kind === OLD_ENCODING.int8PerChannel) ops.varint(cross.old.channels);
        expectedOld = sameAt! + sameName!.bytes.length;
      } else ops.u8(OP.whole);
      ops.varint(choices.length);
      const spent = choices.reduce((sum, c) => sum + writeSegment(ops, data, c), 0);
      perTensor.push({
        name,
        choice: diffed || requantized ? 'diffed' : 'raw',
        transforms: choices.map((c) => TRANSFORM_NAMES[c.params.transform]!),
        rawBytes: t.bytes.length,
        deltaBytes: spent,
      });
    }
    flushCopy();
    program.varint(opCount);
    program.bytes(ops.finish());
  }

  const programRaw = program.finish();
  const programStored = brotli(programRaw, settings.quality);
  const dataBytes = data.reduce((sum, d) => sum + d.length, 0);
  const joined = new Uint8Array(dataBytes);
  let at = 0;
  for (const d of data) {
    joined.set(d, at);
    at += d.length;
  }
  const fromSha256 = sha256Hex(oldBundle);
  const toSha256 = sha256Hex(newBundle);
  const bytes = writeContainer(
    { fromSha256, toSha256, fromSize: oldBundle.length, toSize: newBundle.length, programRawBytes: programRaw.length },
    programStored,
    joined,
  );
  const count = (choice: TensorChoice) => perTensor.filter((s) => s.choice === choice).length;
  return {
    bytes,
    fromSha256,
    toSha256,
    stats: {
      perTensor,
      referenced: count('referenced'),
      diffed: count('diffed'),
      raw: count('raw'),
      modelJsonBytes,
      modelJsonMode: jsonMode === JSON_MODE.diff ? 'diff' : 'whole',
      programBytes: programStored.length,
      dataBytes,
      totalBytes: bytes.length,
      newBundleBytes: newBundle.length,
    },
  };
}
