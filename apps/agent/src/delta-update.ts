/**
 * The delta path of an update (issue 6): download the delta the offer names (resumable, like the full file,
 * and checked against the sha256 and size the signed offer gives), apply it to the installed bundle, and
 * check the result against the target's sha256 and size from the signed offer and release manifest — the same
 * check a full download gets. The result is written where a full download would have put it, so the install
 * that follows cannot tell the two paths apart. Any failure is returned (not thrown) with the bytes it cost:
 * the caller falls back to the full artifact in the same update.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import type { UpdateOffer } from '@modelfleet/contracts';
import { applyDelta, DELTA_FORMAT } from '@modelfleet/delta';
import { isModelFleetError } from '@modelfleet/errors';
import { completeFile, downloadArtifact, partialFile } from './download.js';
import { fsyncPath, writeFileDurably } from './durable.js';
import { releaseFolder } from './install.js';
import { RELEASE_FILES, type DataLayout } from './layout.js';

export type OfferedDelta = NonNullable<UpdateOffer['delta']>;

export interface DeltaUpdateRequest {
  layout: DataLayout;
  /** sha256 of the installed artifact (the offer's `delta.from` matched it). */
  installedSha256: string;
  delta: OfferedDelta;
  target: { sha256: string; size: number };
  /** Absolute URL of the delta blob. */
  url: string;
  token: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  onProgress?: (bytesOnDisk: number) => void;
}

/** Which step of the delta path failed (reports and logs name it). */
export type DeltaFailureStep = 'offer' | 'installed' | 'download' | 'apply' | 'verify';

export type DeltaUpdateResult =
  | { ok: true; file: string; bytesFetched: number; bytesResumed: number }
  | { ok: false; step: DeltaFailureStep; code: string; reason: string; bytesFetched: number };

const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function failed(step: DeltaFailureStep, error: unknown, bytesFetched: number): DeltaUpdateResult {
  return {
    ok: false,
    step,
    code: isModelFleetError(error) ? error.code : 'MF_ERR_DELTA_UPDATE_FAILED',
    reason: error instanceof Error ? error.message : String(error),
    bytesFetched,
  };
}

export async function updateByDelta(request: DeltaUpdateRequest): Promise<DeltaUpdateResult> {
  const { layout, delta, target } = request;
  if (delta.format !== DELTA_FORMAT)
    return failed('offer', new Error(`delta format ${delta.format} is not ${DELTA_FORMAT}`), 0);
  if (!delta.url.endsWith(`/v1/blobs/${delta.sha256}`))
    return failed('offer', new Error(`delta url ${delta.url} does not name the delta ${delta.sha256}`), 0);

  // The installed bundle is the base: a damaged or tampered one cannot give the target; do not fetch for it.
  let base: Uint8Array;
  try {
    base = new Uint8Array(
      await fs.readFile(`${releaseFolder(layout, request.installedSha256)}/${RELEASE_FILES.bundle}`),
    );
  } catch (error) {
    return failed('installed', error, 0);
  }
  const baseSha256 = sha256Of(base);
  if (baseSha256 !== request.installedSha256)
    return failed(
      'installed',
      new Error(`installed bundle hashes to ${baseSha256}, not ${request.installedSha256} (damaged or tampered)`),
      0,
    );

  let fetched;
  try {
    fetched = await downloadArtifact({
      url: request.url,
      token: request.token,
      sha256: delta.sha256,
      size: delta.size,
      downloadsDir: layout.downloads,
      ...(request.fetch ? { fetch: request.fetch } : {}),
      ...(request.signal ? { signal: request.signal } : {}),
      ...(request.onProgress ? { onProgress: request.onProgress } : {}),
    });
  } catch (error) {
    const bytes = isModelFleetError(error) ? Number(error.details?.fetched ?? 0) : 0;
    return failed('download', error, bytes);
  }
  const deltaFile = fetched.file;
  const cost = fetched.bytesFetched;

  let rebuilt: Uint8Array;
  try {
    // applyDelta refuses another base (MF_ERR_DELTA_BASE_MISMATCH), a corrupt delta (MF_ERR_DELTA_CORRUPT) and a
    // result that is not the bundle the delta names (MF_ERR_DELTA_RESULT_MISMATCH).
    rebuilt = applyDelta(base, new Uint8Array(await fs.readFile(deltaFile)), { maxBundleBytes: target.size });
  } catch (error) {
    await fs.rm(deltaFile, { force: true });
    return failed('apply', error, cost);
  }
  await fs.rm(deltaFile, { force: true });
  const rebuiltSha256 = sha256Of(rebuilt);
  if (rebuilt.length !== target.size || rebuiltSha256 !== target.sha256)
    return failed(
      'verify',
      new Error(
        `delta gave ${rebuilt.length} bytes with sha256 ${rebuiltSha256}, expected ${target.size} bytes with sha256 ${target.sha256}`,
      ),
      cost,
    );

  // Where a full download ends: `.part` first (a crash leaves a prefix a full download can resume), then renamed.
  const part = partialFile(layout.downloads, target.sha256);
  const complete = completeFile(layout.downloads, target.sha256);
  await writeFileDurably(part, rebuilt);
  await fs.rename(part, complete);
  await fsyncPath(layout.downloads);
  return { ok: true, file: complete, bytesFetched: cost, bytesResumed: fetched.bytesResumed };
}
