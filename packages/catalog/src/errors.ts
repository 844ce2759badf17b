import { PermanentJobError } from '@modelfleet/jobs';

/** The errors of the catalog's jobs, defined once; callers and tests match on `code`. */

/** The stored bytes do not hash to their address: corruption no retry can repair. */
export class BlobCorrupt extends PermanentJobError {
  constructor(sha256: string, actual: string) {
    super('MF_ERR_BLOB_CORRUPT', `blob ${sha256} hashes to ${actual}`, { details: { sha256, actual } });
  }
}

/** One ArrayBuffer holds the blob in the digest thread; past this size the job refuses. */
export class BlobTooLargeToDigest extends PermanentJobError {
  constructor(sha256: string, size: number, limit: number) {
    super(
      'MF_ERR_BLOB_TOO_LARGE_TO_DIGEST',
      `blob ${sha256} has ${String(size)} bytes, over the digest limit of ${String(limit)}`,
      {
        details: { sha256, size, limit },
      },
    );
  }
}
