/**
 * Resumable artifact download. The partial file `downloads/<sha256>.part` survives crashes and power cuts; on
 * every attempt its bytes are read back and hashed (never trusted from memory or a side file: after a power
 * cut the tail may be missing or zeroed) and only the rest is requested with `Range: bytes=<size>-`.
 * A complete file whose sha256 or size is wrong is deleted, so the next attempt starts from zero.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DownloadCorrupt, DownloadFailed } from './errors.js';
import { fsyncPath } from './durable.js';

export interface DownloadRequest {
  /** Absolute URL of the blob. */
  url: string;
  token: string;
  sha256: string;
  size: number;
  downloadsDir: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /** Called after every chunk written (tests stop a download half-way with it). */
  onProgress?: (bytesOnDisk: number) => void;
}

export interface DownloadResult {
  /** The verified file (`downloads/<sha256>.blob`). */
  file: string;
  /** Bytes fetched over the network by this call (0 when the file was already complete). */
  bytesFetched: number;
  /** Bytes that were already on disk and not fetched again. */
  bytesResumed: number;
}

export function partialFile(downloadsDir: string, sha256: string): string {
  return path.join(downloadsDir, `${sha256}.part`);
}
export function completeFile(downloadsDir: string, sha256: string): string {
  return path.join(downloadsDir, `${sha256}.blob`);
}

async function hashFile(file: string, hash: Hash): Promise<number> {
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return size;
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await fs.stat(file)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Hashes a finished file and throws (after deleting it) unless it is exactly the expected artifact. */
async function checkComplete(file: string, sha256: string, size: number): Promise<void> {
  const hash = createHash('sha256');
  const actualSize = await hashFile(file, hash);
  const actual = hash.digest('hex');
  if (actualSize !== size || actual !== sha256) {
    await fs.rm(file, { force: true });
    throw new DownloadCorrupt(
      `got ${actualSize} bytes with sha256 ${actual}, expected ${size} bytes with sha256 ${sha256}`,
      {
        details: { expectedSha256: sha256, actualSha256: actual, expectedSize: size, actualSize },
      },
    );
  }
}

export async function downloadArtifact(request: DownloadRequest): Promise<DownloadResult> {
  const { sha256, size, downloadsDir } = request;
  const doFetch = request.fetch ?? fetch;
  await fs.mkdir(downloadsDir, { recursive: true });
  const complete = completeFile(downloadsDir, sha256);
  if ((await sizeOf(complete)) !== null) {
    await checkComplete(complete, sha256, size);
    return { file: complete, bytesFetched: 0, bytesResumed: size };
  }

  const part = partialFile(downloadsDir, sha256);
  let hash = createHash('sha256');
  let onDisk = 0;
  if ((await sizeOf(part)) !== null) {
    onDisk = await hashFile(part, hash);
    if (onDisk > size) {
      await fs.rm(part, { force: true });
      return downloadArtifact(request);
    }
  }
  let resumed = onDisk;
  let fetched = 0;

  if (onDisk < size) {
    const headers: Record<string, string> = { authorization: `Bearer ${request.token}` };
    if (onDisk > 0) headers.range = `bytes=${onDisk}-`;
    let response: Response;
    try {
      response = await doFetch(request.url, { headers, ...(request.signal ? { signal: request.signal } : {}) });
    } catch (error) {
      throw new DownloadFailed((error as Error).message, { cause: error });
    }
    if (response.status === 416) {
      // The server says our offset is past the end: what we have is not a prefix of this blob. Start over.
      await response.body?.cancel();
      await fs.rm(part, { force: true });
      throw new DownloadFailed(`416 for bytes=${onDisk}-; partial file deleted`);
    }
    if (response.status !== 200 && response.status !== 206) {
      await response.body?.cancel();
      throw new DownloadFailed(`HTTP ${response.status} for ${request.url}`, { details: { status: response.status } });
    }
    let append = onDisk > 0;
    if (response.status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
      if (range === null || Number(range[1]) !== onDisk) {
        await response.body?.cancel();
        await fs.rm(part, { force: true });
        throw new DownloadFailed(
          `unexpected Content-Range ${response.headers.get('content-range') ?? '(none)'} for bytes=${onDisk}-`,
        );
      }
    } else if (append) {
      // 200 to a Range request: the server sends the whole blob; drop what we had and hash from zero.
      append = false;
      onDisk = 0;
      resumed = 0;
      hash = createHash('sha256');
    }
    const handle = await fs.open(part, append ? 'a' : 'w', 0o644);
    try {
      if (response.body === null) throw new DownloadFailed('empty body');
      for await (const chunk of response.body) {
        const bytes = chunk as Uint8Array;
        if (onDisk + bytes.length > size) {
          throw new DownloadCorrupt(`server sent more than the ${size} bytes of the artifact`);
        }
        await handle.write(bytes);
        hash.update(bytes);
        onDisk += bytes.length;
        fetched += bytes.length;
        request.onProgress?.(onDisk);
      }
      await handle.sync();
    } catch (error) {
      if (DownloadCorrupt.is(error)) {
        await handle.close();
        await fs.rm(part, { force: true });
        throw error;
      }
      throw new DownloadFailed(`after ${fetched} bytes: ${(error as Error).message}`, {
        cause: error,
        details: { fetched },
      });
    } finally {
      await handle.close().catch(() => {});
    }
  }

  // A short body keeps its bytes on disk for the next attempt to resume from.
  if (onDisk < size)
    throw new DownloadFailed(`connection ended after ${onDisk} of ${size} bytes`, { details: { fetched } });
  const actual = hash.digest('hex');
  if (onDisk !== size || actual !== sha256) {
    await fs.rm(part, { force: true });
    throw new DownloadCorrupt(
      `got ${onDisk} bytes with sha256 ${actual}, expected ${size} bytes with sha256 ${sha256}`,
      {
        details: { expectedSha256: sha256, actualSha256: actual, fetched },
      },
    );
  }
  await fs.rename(part, complete);
  await fsyncPath(downloadsDir);
  return { file: complete, bytesFetched: fetched, bytesResumed: resumed };
}
