/**
 * @modelfleet/archive — safe in-memory unpacking of uploaded .zip and .tar.gz archives (datasets of
 * class folders, model folders), with path checks and limits on entries and expanded bytes.
 */
export {
  unpackArchive,
  isZip,
  isGzip,
  DEFAULT_MAX_EXPANSION_RATIO,
  EXPANSION_FLOOR_BYTES,
  type ArchiveEntry,
  type UnpackOptions,
} from './unpack.js';
export { safeSegments, isHiddenPath } from './paths.js';
export { ArchiveInvalid, ArchiveTooLarge, ArchiveTooManyEntries, ArchiveUnsafePath } from './errors.js';
