import { defineError } from '@modelfleet/errors';

/** The errors of the blob store, defined once; callers and tests match on `code`. */

export const BlobNotFound = defineError('MF_ERR_BLOB_NOT_FOUND', 404, 'blob %s not found');

export const BlobRangeNotSatisfiable = defineError<[string, string, string]>(
  'MF_ERR_BLOB_RANGE_NOT_SATISFIABLE',
  416,
  'range %s is not satisfiable for blob %s of %s bytes',
);

export const InvalidBlobAddress = defineError('MF_ERR_BLOB_INVALID_ADDRESS', 400, 'not a sha256 hex digest: %s');

export const BlobTooLarge = defineError('MF_ERR_BLOB_TOO_LARGE', 413, 'blob exceeds the limit of %s bytes');

export const BlobHashMismatch = defineError<[string, string]>(
  'MF_ERR_BLOB_HASH_MISMATCH',
  422,
  'content hashes to %s, expected %s',
);

export const BlobPutAborted = defineError('MF_ERR_BLOB_PUT_ABORTED', 400, 'blob upload aborted: %s');

export const BlobStoreUnavailable = defineError('MF_ERR_BLOB_STORE_UNAVAILABLE', 503, 'blob store unavailable: %s');

/** The filesystem under the store is full (ENOSPC, or a quota: EDQUOT); nothing of the put is left behind. */
export const BlobStoreFull = defineError('MF_ERR_BLOB_STORE_FULL', 507, 'blob store is out of space: %s');
