/**
 * Plane codecs: a byte plane is stored as is or brotli-compressed, whichever is smaller. Brotli runs at
 * quality 11 with a window as large as the plane needs (up to 16 MiB); decompression is bounded by the
 * plane's declared raw length, so a small hostile stream cannot inflate beyond what the delta declares.
 */
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import { DeltaCorrupt } from './errors.js';

export const CODEC = { stored: 0, brotli: 1 } as const;
export type CodecId = (typeof CODEC)[keyof typeof CODEC];

export interface EncodedPlane {
  readonly codec: CodecId;
  readonly rawLength: number;
  readonly stored: Uint8Array;
}

function windowBits(length: number): number {
  let bits = 16;
  while (bits < 24 && 1 << bits < length + 16) bits++;
  return bits;
}

export function brotli(bytes: Uint8Array, quality = 11): Uint8Array {
  return new Uint8Array(
    brotliCompressSync(bytes, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: quality,
        [constants.BROTLI_PARAM_LGWIN]: windowBits(bytes.length),
        [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      },
    }),
  );
}

export function encodePlane(bytes: Uint8Array, quality = 11): EncodedPlane {
  if (bytes.length === 0) return { codec: CODEC.stored, rawLength: 0, stored: bytes };
  const compressed = brotli(bytes, quality);
  return compressed.length < bytes.length
    ? { codec: CODEC.brotli, rawLength: bytes.length, stored: compressed }
    : { codec: CODEC.stored, rawLength: bytes.length, stored: bytes };
}

/** A plane compressed at a fast quality, to compare candidate transforms. */
export function trialPlane(bytes: Uint8Array, quality: number): EncodedPlane {
  return encodePlane(bytes, quality);
}

/**
 * The final encoding of a plane from its trial: quality 11 only where the trial found the plane
 * compressible. The low mantissa bytes of float weights are noise; brotli 11 spends most of the
 * encoding time on them for nothing (measured on the demo fine-tune, float32: 14.4 s -> 2.5 s at q9,
 * within 0.6 % of the size), while on int8 residuals 11 is 14 % smaller than 9.
 */
export function finalPlane(bytes: Uint8Array, trial: EncodedPlane, quality: number): EncodedPlane {
  if (trial.stored.length >= 0.9 * bytes.length) return trial;
  const final = encodePlane(bytes, quality);
  return final.stored.length <= trial.stored.length ? final : trial;
}

export function decodePlane(codec: number, stored: Uint8Array, rawLength: number, what: string): Uint8Array {
  if (codec === CODEC.stored) {
    if (stored.length !== rawLength) throw new DeltaCorrupt(`${what}: stored length differs from its raw length`);
    return stored;
  }
  if (codec !== CODEC.brotli) throw new DeltaCorrupt(`${what}: unknown codec ${codec}`);
  let out: Buffer;
  try {
    out = brotliDecompressSync(stored, { maxOutputLength: Math.max(1, rawLength) });
  } catch (error) {
    throw new DeltaCorrupt(`${what} does not decompress`, { cause: error });
  }
  if (out.length !== rawLength) throw new DeltaCorrupt(`${what} decompresses to the wrong length`);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
