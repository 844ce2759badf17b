import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import tar from 'tar-stream';
import type { Dataset } from '../dataset.js';
import { ArchiveInvalid, ArchiveTooLarge, ArchiveTooManyEntries } from '../errors.js';
import { datasetFromEntries } from './decode.js';
import { DEFAULT_MAX_ENTRIES, DEFAULT_MAX_EXPANDED_BYTES, type ImageEntry, type ImportOptions } from './options.js';
import { isImagePath, safeSegments } from './paths.js';

interface Limits {
  maxEntries: number;
  maxBytes: number;
}

function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function unpackZip(bytes: Uint8Array, limits: Limits): ImageEntry[] {
  let count = 0;
  let declared = 0;
  let files;
  try {
    files = unzipSync(bytes, {
      // Runs before an entry is inflated: the declared sizes bound what fflate allocates.
      filter: (file) => {
        if (++count > limits.maxEntries) throw new ArchiveTooManyEntries(String(limits.maxEntries));
        const segments = safeSegments(file.name);
        if (!isImagePath(segments)) return false;
        declared += file.originalSize;
        if (declared > limits.maxBytes) throw new ArchiveTooLarge(String(limits.maxBytes));
        return true;
      },
    });
  } catch (cause) {
    if ((cause as { code?: string }).code?.startsWith('MF_ERR_')) throw cause;
    throw new ArchiveInvalid('zip', { cause });
  }
  let total = 0;
  return Object.entries(files).map(([name, data]) => {
    // A lying header cannot make the output bigger than declared, but check what we hold.
    total += data.length;
    if (total > limits.maxBytes) throw new ArchiveTooLarge(String(limits.maxBytes));
    return { path: safeSegments(name).join('/'), bytes: data };
  });
}

async function unpackTarGz(bytes: Uint8Array, limits: Limits): Promise<ImageEntry[]> {
  let tarBytes: Buffer;
  try {
    // maxOutputLength makes zlib stop (RangeError) instead of inflating a bomb into memory.
    tarBytes = gunzipSync(bytes, { maxOutputLength: limits.maxBytes + 1024 * 1024 });
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
      throw new ArchiveTooLarge(String(limits.maxBytes), { cause });
    }
    throw new ArchiveInvalid('gzip', { cause });
  }
  const extract = tar.extract();
  const entries: ImageEntry[] = [];
  let count = 0;
  let total = 0;
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      if (++count > limits.maxEntries) throw new ArchiveTooManyEntries(String(limits.maxEntries));
      const segments = safeSegments(name);
      if (type === 'symlink' || type === 'link') throw new ArchiveInvalid(`link entry ${JSON.stringify(name)}`);
      const wanted = (type === 'file' || type === 'contiguous-file') && isImagePath(segments);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) {
        if (!wanted) continue;
        total += (chunk as Buffer).length;
        if (total > limits.maxBytes) throw new ArchiveTooLarge(String(limits.maxBytes));
        chunks.push(chunk as Buffer);
      }
      if (wanted) entries.push({ path: segments.join('/'), bytes: new Uint8Array(Buffer.concat(chunks)) });
    }
  })();
  extract.end(tarBytes);
  try {
    await done;
  } catch (cause) {
    extract.destroy();
    if ((cause as { code?: string }).code?.startsWith('MF_ERR_')) throw cause;
    throw new ArchiveInvalid('tar', { cause });
  }
  return entries;
}

/**
 * Imports a .zip or .tar.gz of a folder of class folders, in memory (nothing is written to
 * disk). Entries with absolute paths or `..` are refused (MF_ERR_ARCHIVE_UNSAFE_PATH), links are
 * refused, and the entry count and expanded bytes are bounded (MF_ERR_ARCHIVE_TOO_MANY_ENTRIES,
 * MF_ERR_ARCHIVE_TOO_LARGE).
 */
export async function importArchive(bytes: Uint8Array, options: ImportOptions): Promise<Dataset> {
  const limits: Limits = {
    maxEntries: options.maxEntries ?? DEFAULT_MAX_ENTRIES,
    maxBytes: options.maxExpandedBytes ?? DEFAULT_MAX_EXPANDED_BYTES,
  };
  let entries: ImageEntry[];
  if (isZip(bytes)) entries = unpackZip(bytes, limits);
  else if (isGzip(bytes)) entries = await unpackTarGz(bytes, limits);
  else throw new ArchiveInvalid('neither a zip nor a gzip file');
  return datasetFromEntries(entries, options);
}
