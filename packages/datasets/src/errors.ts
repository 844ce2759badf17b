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
// Archive errors are the archive package's; re-exported so dataset callers see one vocabulary.
export { ArchiveInvalid, ArchiveTooLarge, ArchiveTooManyEntries, ArchiveUnsafePath } from '@modelfleet/archive';
/** An image that is not inside a class folder. */
export const DatasetLayoutInvalid = defineError(
  'MF_ERR_DATASET_LAYOUT_INVALID',
  422,
  'image %s is not inside a class folder (expected <class>/<image>)',
);
