import { defineJob, type JobContext } from '@modelfleet/jobs';
import { Type } from 'typebox';
import { BlobCorrupt, BlobTooLargeToDigest } from '../errors.js';
import type { Services } from '../services.js';
import type { ByteDigest } from './digest-bytes.js';

/** 1 GiB: the digest holds the blob in one buffer (models are tens of MB; see BlobTooLargeToDigest). */
const MAX_DIGEST_BYTES = 1 << 30;

const digestTask = new URL('./digest-bytes.ts', import.meta.url);

export const BlobDigestPayload = Type.Object(
  { sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'address of the blob to digest' }) },
  { additionalProperties: false },
);

export type BlobDigestResult = ByteDigest;

/**
 * Reads a blob and, off the event loop, verifies its content address and measures its size and
 * byte entropy. Deterministic: the same blob gives the same result on any host and driver.
 */
export const blobDigestJob = defineJob({
  name: 'blob.digest',
  payload: BlobDigestPayload,
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 1000 },
  async process(payload, context: JobContext<Pick<Services, 'blobs' | 'logger'>>): Promise<BlobDigestResult> {
    const { sha256 } = payload;
    const read = await context.services.blobs.get(sha256);
    if (read.size > MAX_DIGEST_BYTES) {
      read.stream.destroy();
      throw new BlobTooLargeToDigest(sha256, read.size, MAX_DIGEST_BYTES);
    }
    const buffer = new ArrayBuffer(read.size);
    const bytes = new Uint8Array(buffer);
    let filled = 0;
    let reported = 0;
    for await (const chunk of read.stream) {
      const piece = chunk as Buffer;
      bytes.set(piece, filled);
      filled += piece.length;
      // Reading is the first 40 %; report in 10 % steps, not per chunk.
      const percent = Math.floor((filled / Math.max(1, read.size)) * 4) * 10;
      if (percent > reported) await context.progress('reading', (reported = percent));
    }
    if (filled !== read.size)
      throw new Error(`blob ${sha256} ended after ${String(filled)} of ${String(read.size)} bytes`);

    let lastStep = 0;
    const digest = await context.cpu.run<ByteDigest>(digestTask, 'digestBytes', buffer, {
      transfer: [buffer],
      signal: context.signal,
      onProgress: (percent) => {
        const step = Math.floor(percent / 10);
        if (step === lastStep) return;
        lastStep = step;
        void context.progress('digesting', 40 + step * 6).catch((error: unknown) => {
          context.log.warn({ err: error }, 'progress report failed');
        });
      },
    });
    if (digest.sha256 !== sha256) throw new BlobCorrupt(sha256, digest.sha256);
    context.log.info({ size: digest.size, entropyBitsPerByte: digest.entropyBitsPerByte }, 'blob digested');
    return digest;
  },
});
