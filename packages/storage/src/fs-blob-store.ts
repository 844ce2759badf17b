import { createHash, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, addAbortSignal } from 'node:stream';
import { assertSha256, resolveRange } from './address.js';
import type { BlobRead, BlobSource, BlobStat, BlobStore, ByteRange, PutOptions, PutResult } from './blob-store.js';
import {
  BlobHashMismatch,
  BlobNotFound,
  BlobPutAborted,
  BlobStoreFull,
  BlobStoreUnavailable,
  BlobTooLarge,
} from './errors.js';

export interface FsBlobStoreOptions {
  /** Directory that holds the blobs (`root/ab/cd/<sha256>`) and the temp files of puts (`root/.tmp`). */
  root: string;
  /**
   * Temp files untouched for longer than this are leftovers of a crashed process and are removed
   * at start-up. Several processes may share one root (workers on a shared volume), so a fresh
   * temp file may belong to a put in progress elsewhere: only stale ones are removed. Default 1 h.
   */
  staleTempAfterMs?: number;
}

const TEMP_DIR = '.tmp';
const TEMP_SUFFIX = '.part';

/**
 * A blob store on a local (or shared POSIX) filesystem. Creates the directories and removes stale
 * temp files, then returns the store.
 */
export async function createFsBlobStore(options: FsBlobStoreOptions): Promise<BlobStore> {
  const root = options.root;
  const tempDir = join(root, TEMP_DIR);
  await mkdir(tempDir, { recursive: true });
  await removeStaleTempFiles(tempDir, options.staleTempAfterMs ?? 60 * 60 * 1000);

  const blobPath = (sha256: string): string => join(root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);

  async function put(source: BlobSource, putOptions: PutOptions = {}): Promise<PutResult> {
    const { expectedSha256, maxBytes, signal } = putOptions;
    if (expectedSha256 !== undefined) assertSha256(expectedSha256);
    if (signal?.aborted) throw new BlobPutAborted(abortReason(signal));
    if (source instanceof Uint8Array && maxBytes !== undefined && source.byteLength > maxBytes) {
      throw new BlobTooLarge(String(maxBytes));
    }

    const tempPath = join(tempDir, `${randomUUID()}${TEMP_SUFFIX}`);
    let handle: FileHandle | undefined;
    try {
      handle = await open(tempPath, 'wx', 0o644);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of toReadable(source, signal)) {
        const bytes = chunk as Uint8Array;
        size += bytes.byteLength;
        if (maxBytes !== undefined && size > maxBytes) throw new BlobTooLarge(String(maxBytes));
        hash.update(bytes);
        await handle.write(bytes);
      }
      // A stream may end normally right as the signal fires; the caller asked to abort, so honour it.
      if (signal?.aborted) throw new BlobPutAborted(abortReason(signal));
      await handle.sync();
      await handle.close();
      handle = undefined;

      const sha256 = hash.digest('hex');
      if (expectedSha256 !== undefined && sha256 !== expectedSha256) throw new BlobHashMismatch(sha256, expectedSha256);

      const finalPath = blobPath(sha256);
      const finalDir = join(root, sha256.slice(0, 2), sha256.slice(2, 4));
      const firstCreated = await mkdir(finalDir, { recursive: true });
      const created = await publish(tempPath, finalPath);
      await syncDirectory(finalDir);
      // Directories made just now are entries in their parents, which need an fsync of their own.
      if (firstCreated !== undefined) {
        if (firstCreated !== finalDir) await syncDirectory(dirname(finalDir));
        await syncDirectory(dirname(firstCreated));
      }
      return { sha256, size, created };
    } catch (error) {
      throw translatePutError(error, signal);
    } finally {
      await handle?.close().catch(() => undefined);
      await unlink(tempPath).catch(() => undefined);
    }
  }

  async function get(sha256: string, range?: ByteRange): Promise<BlobRead> {
    assertSha256(sha256);
    let handle: FileHandle;
    try {
      // Open first, then size the open file: a concurrent delete cannot pull the bytes away.
      handle = await open(blobPath(sha256), 'r');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new BlobNotFound(sha256);
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const resolved = resolveRange(sha256, size, range);
      if (resolved === undefined) {
        await handle.close();
        return { stream: Readable.from([]), size, start: 0, end: -1, length: 0 };
      }
      const stream = handle.createReadStream({ start: resolved.start, end: resolved.end, autoClose: true });
      return { stream, size, start: resolved.start, end: resolved.end, length: resolved.end - resolved.start + 1 };
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  async function statBlob(sha256: string): Promise<BlobStat | undefined> {
    assertSha256(sha256);
    try {
      const info = await stat(blobPath(sha256));
      return { sha256, size: info.size };
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async function remove(sha256: string): Promise<boolean> {
    assertSha256(sha256);
    try {
      await unlink(blobPath(sha256));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async function ping(): Promise<void> {
    try {
      await access(tempDir, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new BlobStoreUnavailable(errorMessage(error), { cause: error });
    }
  }

  return {
    put,
    get,
    stat: statBlob,
    exists: async (sha256) => (await statBlob(sha256)) !== undefined,
    delete: remove,
    ping,
  };
}

/**
 * Makes the complete temp file visible under its address. `link` publishes atomically and refuses
 * to replace an existing blob, which tells concurrent puts of the same content apart: exactly one
 * reports `created`. Filesystems without hard links fall back to an atomic `rename` (identical
 * content, so replacing is harmless).
 */
async function publish(tempPath: string, finalPath: string): Promise<boolean> {
  try {
    await link(tempPath, finalPath);
    return true;
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return false;
    if (isErrno(error, 'EPERM') || isErrno(error, 'ENOTSUP') || isErrno(error, 'EOPNOTSUPP')) {
      const existed = await stat(finalPath).then(
        () => true,
        () => false,
      );
      await rename(tempPath, finalPath);
      return !existed;
    }
    throw error;
  }
}

/** fsync of the directory makes the new directory entry itself durable (rename/link alone is not). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function removeStaleTempFiles(tempDir: string, staleAfterMs: number): Promise<void> {
  const cutoff = Date.now() - staleAfterMs;
  for (const name of await readdir(tempDir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const path = join(tempDir, name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined && info.mtimeMs <= cutoff) await unlink(path).catch(() => undefined);
  }
}

function toReadable(source: BlobSource, signal: AbortSignal | undefined): Readable {
  const readable =
    source instanceof Readable
      ? source
      : source instanceof Uint8Array
        ? Readable.from([source])
        : Readable.from(source);
  // Destroying the stream on abort also ends a put whose source has stalled.
  return signal === undefined ? readable : addAbortSignal(signal, readable);
}

function translatePutError(error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted && !(error instanceof BlobTooLarge) && !(error instanceof BlobHashMismatch)) {
    return BlobPutAborted.is(error) ? error : new BlobPutAborted(abortReason(signal), { cause: error });
  }
  if (error instanceof Error && error.name === 'AbortError') return new BlobPutAborted(error.message, { cause: error });
  // A full disk is the operator's to fix, not a bug: a specific code (HTTP 507) instead of an internal error.
  if (isErrno(error, 'ENOSPC') || isErrno(error, 'EDQUOT'))
    return new BlobStoreFull((error as Error).message, { cause: error });
  return error;
}

function abortReason(signal: AbortSignal): string {
  return errorMessage(signal.reason ?? 'aborted');
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
