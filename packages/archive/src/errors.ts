import { defineError } from '@modelfleet/errors';

/** An archive that is neither a zip nor a gzip'd tar, or that fails to unpack. */
export const ArchiveInvalid = defineError('MF_ERR_ARCHIVE_INVALID', 422, 'archive cannot be read: %s');
/** An archive entry whose path is absolute or climbs out with `..`. */
export const ArchiveUnsafePath = defineError('MF_ERR_ARCHIVE_UNSAFE_PATH', 422, 'archive entry path %s is not allowed');
/** An archive with more entries than allowed. */
export const ArchiveTooManyEntries = defineError(
  'MF_ERR_ARCHIVE_TOO_MANY_ENTRIES',
  413,
  'archive has more than %s entries',
);
/** An archive that expands to more bytes than allowed (zip bombs and the like). */
export const ArchiveTooLarge = defineError('MF_ERR_ARCHIVE_TOO_LARGE', 413, 'archive expands to more than %s bytes');
