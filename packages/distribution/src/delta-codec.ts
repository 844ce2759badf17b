import type { EncodeOptions } from '@modelfleet/delta';
import type { CpuPool } from '@modelfleet/jobs';
import type { EncodeTaskInput } from './encode-task.js';
import { DELTA_FORMAT_NAME, DELTA_FORMAT_VERSION } from './format.js';

/** What the delta cache needs from a delta encoder. */
export interface DeltaCodec {
  /** The format's name, as offers carry it (`delta.format`). */
  readonly format: string;
  /** Stored with each row: rows of another version are recomputed, never offered. */
  readonly formatVersion: number;
  encode(oldBundle: Uint8Array, newBundle: Uint8Array): Promise<Uint8Array>;
}

const encodeTask = new URL('./encode-task.ts', import.meta.url);

/**
 * The @modelfleet/delta encoder, run in a cpu thread of `pool`: encoding a 1 MB model takes long enough
 * (hundreds of ms) that it would stall every poll and download of the process on the event loop.
 * The bundles' buffers are moved to the thread, not copied; callers must not use them afterwards.
 * `options` are the encoder's (brotli qualities); the defaults compress best, and a delta is encoded once per
 * pair and downloaded by every device on that pair, so only tests trade size for speed.
 */
export function createPooledDeltaCodec(pool: CpuPool, options: EncodeOptions = {}): DeltaCodec {
  return {
    format: DELTA_FORMAT_NAME,
    formatVersion: DELTA_FORMAT_VERSION,
    async encode(oldBundle, newBundle) {
      const input: EncodeTaskInput = {
        oldBundle: ownBuffer(oldBundle),
        newBundle: ownBuffer(newBundle),
        options: { ...options },
      };
      const bytes = await pool.run<Uint8Array>(encodeTask, 'encodeDeltaTask', input, {
        transfer: [input.oldBundle, input.newBundle],
      });
      return bytes;
    },
  };
}

/** The bytes in an ArrayBuffer of their own (a view into a larger or shared buffer is copied). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)
    return bytes.buffer;
  return bytes.slice().buffer;
}
