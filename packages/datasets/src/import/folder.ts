import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset } from '../dataset.js';
import { ArchiveTooLarge, ArchiveTooManyEntries } from '../errors.js';
import { datasetFromEntries } from './decode.js';
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EXPANDED_BYTES, type ImageEntry, type ImportOptions } from './options.js';
import { isImagePath } from './paths.js';

/**
 * Imports a folder of class folders (`dir/<class>/<image>.png|jpg`). Symbolic links are not
 * followed, so the import never reads outside `dir`; the same entry and byte limits as for
 * archives apply.
 */
export async function importImageFolder(dir: string, options: ImportOptions): Promise<Dataset> {
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxBytes = options.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES;
  const entries: ImageEntry[] = [];
  let seen = 0;
  let bytes = 0;
  const walk = async (segments: string[]): Promise<void> => {
    const names = (await readdir(join(dir, ...segments))).sort();
    for (const name of names) {
      if (++seen > maxEntries) throw new ArchiveTooManyEntries(String(maxEntries));
      const path = [...segments, name];
      const stats = await lstat(join(dir, ...path));
      if (stats.isDirectory()) {
        if (!name.startsWith('.')) await walk(path);
      } else if (stats.isFile() && isImagePath(path)) {
        bytes += stats.size;
        if (bytes > maxBytes) throw new ArchiveTooLarge(String(maxBytes));
        entries.push({ path: path.join('/'), bytes: await readFile(join(dir, ...path)) });
      }
    }
  };
  await walk([]);
  return datasetFromEntries(entries, options);
}
