import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import tar from 'tar-stream';
import { ArchiveInvalid, ArchiveTooLarge, ArchiveTooManyEntries } from './errors.js';
import { safeSegments } from './paths.js';

export interface ArchiveEntry {
  /** The entry's path relative to the archive root, '/'-separated, checked safe. */
  path: string;
  bytes: Uint8Array;
}

export interface UnpackOptions {
  /** Most entries (files and folders) the archive may hold. */
  maxEntries: number;
  /** Most bytes the wanted entries may expand to. */
  maxExpandedBytes: number;
  /** Which files to keep, by their safe path segments; the others are skipped without being inflated. */
  accept(segments: readonly string[]): boolean;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const isOwnError = (error: unknown) => (error as { code?: string }).code?.startsWith('MF_ERR_') === true;

function unpackZip(bytes: Uint8Array, options: UnpackOptions): ArchiveEntry[] {
  let count = 0;
  let declared = 0;
  let files;
  try {
    files = unzipSync(bytes, {
      // Runs before an entry is inflated: the declared sizes bound what fflate allocates.
      filter: (file) => {
        if (++count > options.maxEntries) throw new ArchiveTooManyEntries(String(options.maxEntries));
        const segments = safeSegments(file.name);
        if (file.name.endsWith('/') || !options.accept(segments)) return false;
        declared += file.originalSize;
        if (declared > options.maxExpandedBytes) throw new ArchiveTooLarge(String(options.maxExpandedBytes));
        return true;
      },
    });
  } catch (cause) {
    if (isOwnError(cause)) throw cause;
    throw new ArchiveInvalid('zip', { cause });
  }
  let total = 0;
  return Object.entries(files).map(([name, data]) => {
    // A lying header cannot make the output bigger than declared, but check what we hold.
    total += data.length;
    if (total > options.maxExpandedBytes) throw new ArchiveTooLarge(String(options.maxExpandedBytes));
    return { path: safeSegments(name).join('/'), bytes: data };
  });
}

async function unpackTarGz(bytes: Uint8Array, options: UnpackOptions): Promise<ArchiveEntry[]> {
  let tarBytes: Buffer;
  try {
    // maxOutputLength makes zlib stop instead of inflating a bomb into memory; the tar headers
    // and skipped entries get a little room on top of the wanted bytes.
    tarBytes = gunzipSync(bytes, { maxOutputLength: options.maxExpandedBytes + 1024 * 1024 });
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
      throw new ArchiveTooLarge(String(options.maxExpandedBytes), { cause });
    }
    throw new ArchiveInvalid('gzip', { cause });
  }
  const extract = tar.extract();
  const entries: ArchiveEntry[] = [];
  let count = 0;
  let total = 0;
  const done = (async () => {
    for await (const entry of extract) {
      const { name, type } = entry.header;
      if (++count > options.maxEntries) throw new ArchiveTooManyEntries(String(options.maxEntries));
      const segments = safeSegments(name);
      if (type === 'symlink' || type === 'link') throw new ArchiveInvalid(`link entry ${JSON.stringify(name)}`);
      const wanted = (type === 'file' || type === 'contiguous-file') && options.accept(segments);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) {
        if (!wanted) continue;
        total += (chunk as Buffer).length;
        if (total > options.maxExpandedBytes) throw new ArchiveTooLarge(String(options.maxExpandedBytes));
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
    if (isOwnError(cause)) throw cause;
    throw new ArchiveInvalid('tar', { cause });
  }
  return entries;
}

/**
 * Unpacks a .zip or .tar.gz in memory (nothing is written to disk). Entries with absolute paths or
 * `..` are refused (MF_ERR_ARCHIVE_UNSAFE_PATH), links are refused, and the entry count and expanded
 * bytes are bounded (MF_ERR_ARCHIVE_TOO_MANY_ENTRIES, MF_ERR_ARCHIVE_TOO_LARGE).
 */
export async function unpackArchive(bytes: Uint8Array, options: UnpackOptions): Promise<ArchiveEntry[]> {
  if (isZip(bytes)) return unpackZip(bytes, options);
  if (isGzip(bytes)) return unpackTarGz(bytes, options);
  throw new ArchiveInvalid('neither a zip nor a gzip file');
}
