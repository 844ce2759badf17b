import { defineError } from '@modelfleet/errors';

/** A dataset file whose bytes do not follow the format (bad magic, truncated, checksum, label range). */
export const DatasetCorrupt = defineError('MF_ERR_DATASET_CORRUPT', 422, 'dataset file is corrupt: %s');
/** A dataset file written by a newer (or unknown) format version. */
export const DatasetVersionUnsupported = defineError(
  'MF_ERR_DATASET_VERSION_UNSUPPORTED',
  422,
  'dataset format version %s is not supported (this reader knows version %s)',
);
/** Arguments that cannot describe a dataset (sizes, counts, fractions). */
export const DatasetInvalidArgument = defineError('MF_ERR_DATASET_INVALID_ARGUMENT', 400, 'invalid argument: %s');
/** An image folder or archive whose class folder is not one of the expected class names. */
export const DatasetUnknownLabel = defineError(
  'MF_ERR_DATASET_UNKNOWN_LABEL',
  422,
  'class folder %s is not one of the expected classes %s',
);
/** An image folder or archive with no usable images. */
export const DatasetEmpty = defineError('MF_ERR_DATASET_EMPTY', 422, 'no images found: %s');
/** An image that the decoder (sharp) cannot read. */
export const DatasetImageUnreadable = defineError('MF_ERR_DATASET_IMAGE_UNREADABLE', 422, 'image %s cannot be decoded');
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
/** An image that is not inside a class folder. */
export const DatasetLayoutInvalid = defineError(
  'MF_ERR_DATASET_LAYOUT_INVALID',
  422,
  'image %s is not inside a class folder (expected <class>/<image>)',
);
