import { brotliCompressSync, constants } from 'node:zlib';

export interface SizeReport {
  /** Bytes of the canonical bundle: every byte a device installs. */
  fileBytes: number;
  /** Bytes on the wire after brotli, the transport compression the server uses. */
  wireBytes: number;
}

export interface SizeOptions {
  /** Brotli quality 0..11 (default 11: artifacts are compressed once and served many times). */
  brotliQuality?: number;
}

/** Brotli-compressed size of a payload. */
export function brotliSize(payload: Uint8Array, quality = 11): number {
  return brotliCompressSync(payload, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: payload.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_GENERIC,
    },
  }).length;
}

/** File and wire size of an encoded bundle. */
export function measureSizes(bundle: Uint8Array, options: SizeOptions = {}): SizeReport {
  return { fileBytes: bundle.length, wireBytes: brotliSize(bundle, options.brotliQuality ?? 11) };
}
