/**
 * The delta container: a fixed 108-byte header, the brotli-compressed program, then the data planes.
 *
 *   0   8  magic "MFDELTA\0"
 *   8   4  u32 LE format version (1 = 'mfdelta/1')
 *   12  32 sha256 of the old bundle (the base the delta applies to)
 *   44  32 sha256 of the new bundle (what applying produces)
 *   76  4  u32 LE old bundle size      80  4  u32 LE new bundle size
 *   84  4  u32 LE program stored size  88  4  u32 LE program raw size     92  4  u32 LE crc32(program)
 *   96  4  u32 LE data size           100  4  u32 LE crc32(data)         104  4  u32 LE crc32(bytes 0..103)
 *   108    program (brotli) | data (the planes, concatenated in program order)
 * A delta is exactly 108 + program + data bytes long.
 */
import { crc32 } from 'node:zlib';
import { DeltaCorrupt } from './errors.js';

export const DELTA_FORMAT = 'mfdelta/1';
export const DELTA_VERSION = 1;
export const HEADER_BYTES = 108;
const MAGIC = new TextEncoder().encode('MFDELTA\0');

export interface DeltaHeader {
  /** 'mfdelta/1' */
  readonly format: string;
  readonly version: number;
  readonly fromSha256: string;
  readonly toSha256: string;
  readonly fromSize: number;
  readonly toSize: number;
  readonly programBytes: number;
  readonly programRawBytes: number;
  readonly dataBytes: number;
  readonly deltaBytes: number;
}

interface Sections {
  readonly header: DeltaHeader;
  readonly program: Uint8Array;
  readonly data: Uint8Array;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

export function writeContainer(
  fields: { fromSha256: string; toSha256: string; fromSize: number; toSize: number; programRawBytes: number },
  program: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + program.length + data.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, DELTA_VERSION, true);
  out.set(Buffer.from(fields.fromSha256, 'hex'), 12);
  out.set(Buffer.from(fields.toSha256, 'hex'), 44);
  view.setUint32(76, fields.fromSize, true);
  view.setUint32(80, fields.toSize, true);
  view.setUint32(84, program.length, true);
  view.setUint32(88, fields.programRawBytes, true);
  view.setUint32(92, crc32(program), true);
  view.setUint32(96, data.length, true);
  view.setUint32(100, crc32(data), true);
  view.setUint32(104, crc32(out.subarray(0, 104)), true);
  out.set(program, HEADER_BYTES);
  out.set(data, HEADER_BYTES + program.length);
  return out;
}

function parseHeader(delta: Uint8Array): DeltaHeader {
  if (delta.length < HEADER_BYTES) throw new DeltaCorrupt(`${delta.length} bytes is shorter than the header`);
  for (let i = 0; i < MAGIC.length; i++) if (delta[i] !== MAGIC[i]) throw new DeltaCorrupt('bad magic');
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  if (view.getUint32(104, true) !== crc32(delta.subarray(0, 104))) throw new DeltaCorrupt('header checksum');
  const version = view.getUint32(8, true);
  if (version !== DELTA_VERSION) throw new DeltaCorrupt(`unsupported version ${version}`);
  const header: DeltaHeader = {
    format: DELTA_FORMAT,
    version,
    fromSha256: hex(delta.subarray(12, 44)),
    toSha256: hex(delta.subarray(44, 76)),
    fromSize: view.getUint32(76, true),
    toSize: view.getUint32(80, true),
    programBytes: view.getUint32(84, true),
    programRawBytes: view.getUint32(88, true),
    dataBytes: view.getUint32(96, true),
    deltaBytes: delta.length,
  };
  if (HEADER_BYTES + header.programBytes + header.dataBytes !== delta.length)
    throw new DeltaCorrupt('section sizes do not add up to the delta size (truncated?)');
  return header;
}

/** The header of a delta (checks magic, version, header checksum and the section sizes). */
export function inspectDelta(delta: Uint8Array): DeltaHeader {
  return parseHeader(delta);
}

/** Header plus the sections, each checked against its crc32. */
export function readContainer(delta: Uint8Array): Sections {
  const header = parseHeader(delta);
  const view = new DataView(delta.buffer, delta.byteOffset, delta.byteLength);
  const program = delta.subarray(HEADER_BYTES, HEADER_BYTES + header.programBytes);
  const data = delta.subarray(HEADER_BYTES + header.programBytes);
  if (crc32(program) !== view.getUint32(92, true)) throw new DeltaCorrupt('program checksum');
  if (crc32(data) !== view.getUint32(100, true)) throw new DeltaCorrupt('data checksum');
  return { header, program, data };
}
