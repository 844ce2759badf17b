import { gunzipSync } from 'node:zlib';
import { unzipSync } from 'fflate';
import tar from 'tar-stream';
import { ArchiveInvalid, ArchiveTooLarge, ArchiveTooManyEntries, ArchiveUnsafePath } from './errors.js';
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
  /**
   * Most bytes the wanted entries may expand to per byte of archive, once past EXPANSION_FLOOR_BYTES
   * (default DEFAULT_MAX_EXPANSION_RATIO). A 1 MB upload that claims a gigabyte is a bomb, not a dataset.
   */
  maxExpansionRatio?: number;
  /** Which files to keep, by their safe path segments; the others are skipped without being inflated. */
  accept(segments: readonly string[]): boolean;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x1f && bytes[1] === 0x8b;
}

// fflate's errors carry a numeric code: only a string code can be ours.
const isOwnError = (error: unknown) => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('MF_ERR_');
};

/**
 * Images and weights compress by a few times at most (PNG/JPEG not at all, float weights ~1.1x); 200x
 * leaves room for sparse or synthetic data and still stops a 1 MB archive from claiming 1 GB.
 */
export const DEFAULT_MAX_EXPANSION_RATIO = 200;
/** Below this many expanded bytes the ratio is not checked: tiny archives of tiny text files are fine. */
export const EXPANSION_FLOOR_BYTES = 16 * 1024 * 1024;

/** The expanded bytes allowed for an archive of `archiveBytes`: the smaller of the total and the ratio bound. */
function expansionBound(archiveBytes: number, options: UnpackOptions): number {
  const ratio = options.maxExpansionRatio ?? DEFAULT_MAX_EXPANSION_RATIO;
  return Math.min(options.maxExpandedBytes, Math.max(EXPANSION_FLOOR_BYTES, archiveBytes * ratio));
}

/** The safe segments of a file entry; a file must name something below the root (`./`, `\0/x` name nothing). */
function fileSegments(name: string): string[] {
  const segments = safeSegments(name);
  if (segments.length === 0) throw new ArchiveUnsafePath(JSON.stringify(name));
  return segments;
}

function unpackZip(bytes: Uint8Array, options: UnpackOptions): ArchiveEntry[] {
  const bound = expansionBound(bytes.length, options);
  let count = 0;
  let declared = 0;
  let files;
  try {
    files = unzipSync(bytes, {
      // Runs before an entry is inflated: the declared sizes bound what fflate allocates.
      filter: (file) => {
        if (++count > options.maxEntries) throw new ArchiveTooManyEntries(String(options.maxEntries));
        if (file.name.endsWith('/') || file.name.endsWith('\\')) {
          safeSegments(file.name);
          return false;
        }
        const segments = fileSegments(file.name);
        if (!options.accept(segments)) return false;
        declared += file.originalSize;
        if (declared > bound) throw new ArchiveTooLarge(String(bound));
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
    if (total > bound) throw new ArchiveTooLarge(String(bound));
    return { path: fileSegments(name).join('/'), bytes: data };
  });
}

async function unpackTarGz(bytes: Uint8Array, options: UnpackOptions): Promise<ArchiveEntry[]> {
  const bound = expansionBound(bytes.length, options);
  let tarBytes: Buffer;
  try {
    // maxOutputLength makes zlib stop instead of inflating a bomb into memory; the tar headers
    // and skipped entries get a little room on top of the wanted bytes.
    tarBytes = gunzipSync(bytes, { maxOutputLength: bound + 1024 * 1024 });
  } catch (cause) {
    if ((cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError) {
      throw new ArchiveTooLarge(String(bound), { cause });
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
      if (type === 'symlink' || type === 'link') throw new ArchiveInvalid(`link entry ${JSON.stringify(name)}`);
      const isFile = type === 'file' || type === 'contiguous-file';
      const segments = isFile ? fileSegments(name) : safeSegments(name);
      const wanted = isFile && options.accept(segments);
      const chunks: Buffer[] = [];
      for await (const chunk of entry) {
        if (!wanted) continue;
        total += (chunk as Buffer).length;
        if (total > bound) throw new ArchiveTooLarge(String(bound));
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
