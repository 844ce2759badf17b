import type { FastifyRequest } from 'fastify';
import type { BlobStore } from '@modelfleet/storage';
import { isModelFleetError } from '@modelfleet/errors';
import { UploadInvalid, UploadTooLarge } from './errors.js';

export interface UploadLimits {
  /** Bytes of all files of one request together. */
  maxTotalBytes: number;
  maxFiles: number;
}

export interface ReceivedFile {
  field: string;
  filename: string;
  sha256: string;
  size: number;
  /** True when this upload put the blob into the store (so a failed upload may take it out again). */
  created: boolean;
}

export interface ReceivedUpload {
  fields: Map<string, string>;
  files: ReceivedFile[];
  /** Removes the blobs this upload created that nothing else references yet. */
  discard(keep?: ReadonlySet<string>): Promise<void>;
}

/**
 * Streams every file part of a multipart request into the blob store (hashing on the way in, never
 * holding a file whole in memory) and collects the fields. On any failure the blobs already written by
 * this request are removed before the error propagates, so a refused upload leaves nothing behind.
 */
export async function receiveMultipart(
  request: FastifyRequest,
  blobs: BlobStore,
  limits: UploadLimits,
  isReferenced: (sha256: string) => Promise<boolean>,
): Promise<ReceivedUpload> {
  if (!request.isMultipart()) throw new UploadInvalid('expected a multipart/form-data body');
  const fields = new Map<string, string>();
  const files: ReceivedFile[] = [];
  const discard = async (keep: ReadonlySet<string> = new Set()) => {
    for (const file of files) {
      if (!file.created || keep.has(file.sha256)) continue;
      // A blob that another upload registered meanwhile is theirs too: leave it.
      if (await isReferenced(file.sha256)) continue;
      await blobs.delete(file.sha256);
    }
  };
  let total = 0;
  try {
    for await (const part of request.parts({ limits: { files: limits.maxFiles, fields: 20, fieldSize: 4096 } })) {
      if (part.type === 'field') {
        if (typeof part.value !== 'string') throw new UploadInvalid(`field ${part.fieldname} must be text`);
        fields.set(part.fieldname, part.value);
        continue;
      }
      const remaining = limits.maxTotalBytes - total;
      const stored = await blobs.put(part.file, { maxBytes: remaining }).catch((error: unknown) => {
        if ((error as { code?: string }).code === 'MF_ERR_BLOB_TOO_LARGE') {
          throw new UploadTooLarge(`${limits.maxTotalBytes} bytes`, { cause: error });
        }
        throw error;
      });
      total += stored.size;
      files.push({
        field: part.fieldname,
        filename: part.filename,
        sha256: stored.sha256,
        size: stored.size,
        created: stored.created,
      });
    }
  } catch (error) {
    await discard();
    if (isModelFleetError(error)) throw error;
    const code = (error as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT') {
      throw new UploadTooLarge(`${limits.maxFiles} files`, { cause: error });
    }
    if (code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') throw new UploadInvalid('expected a multipart/form-data body');
    throw new UploadInvalid(error instanceof Error ? error.message : String(error), { cause: error });
  }
  return { fields, files, discard };
}
