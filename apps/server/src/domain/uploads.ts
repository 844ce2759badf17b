import type { FastifyRequest } from 'fastify';
import type { BlobStore } from '@modelfleet/storage';
import { isModelFleetError } from '@modelfleet/errors';
import { putAndHold, releaseBlob } from './blob-holds.js';
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
  /**
   * Lets go of the received blobs (call it once the request is decided, after the rows are written):
   * those this upload created that no row references and no other request holds are removed. Idempotent.
   */
  discard(): Promise<void>;
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
  let held = 0;
  const discard = async () => {
    // Each received file holds its blob (see blob-holds.ts): another upload of the same bytes may be using it.
    const releasing = files.slice(0, held);
    held = 0;
    for (const file of releasing) await releaseBlob(blobs, file.sha256, isReferenced);
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
      const stored = await putAndHold(blobs, part.file, isReferenced, { maxBytes: remaining }).catch(
        (error: unknown) => {
          if ((error as { code?: string }).code === 'MF_ERR_BLOB_TOO_LARGE') {
            throw new UploadTooLarge(`${limits.maxTotalBytes} bytes`, { cause: error });
          }
          throw error;
        },
      );
      total += stored.size;
      files.push({
        field: part.fieldname,
        filename: part.filename,
        sha256: stored.sha256,
        size: stored.size,
        created: stored.created,
      });
      held = files.length;
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
