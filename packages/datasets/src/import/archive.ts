import { unpackArchive } from '@modelfleet/archive';
import type { Dataset } from '../dataset.js';
import { datasetFromEntries } from './decode.js';
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EXPANDED_BYTES, type ImportOptions } from './options.js';
import { isImagePath } from './paths.js';

/**
 * Imports a .zip or .tar.gz of a folder of class folders, in memory (nothing is written to
 * disk). Entries with absolute paths or `..` are refused (MF_ERR_ARCHIVE_UNSAFE_PATH), links are
 * refused, and the entry count and expanded bytes are bounded (MF_ERR_ARCHIVE_TOO_MANY_ENTRIES,
 * MF_ERR_ARCHIVE_TOO_LARGE).
 */
export async function importArchive(bytes: Uint8Array, options: ImportOptions): Promise<Dataset> {
  const entries = await unpackArchive(bytes, {
    maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    maxExpandedBytes: options.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES,
    accept: isImagePath,
  });
  return datasetFromEntries(entries, options);
}
