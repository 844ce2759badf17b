import type { BlobSource, BlobStore, PutOptions, PutResult } from '@modelfleet/storage';

/**
 * Blobs that requests in flight in this process have received or stored but not yet recorded in the
 * database. Two uploads of the same bytes share one content-addressed blob; before holds, the one that
 * was refused removed the blob the other was about to record (the datasets race test saw the accepted
 * upload answer 404 MF_ERR_BLOB_NOT_FOUND in about 1 of 15 rounds). Now a blob is removed only when a
 * holder created it, the last holder has let go, no row references it, and no put is in flight: a put
 * that finds its blob already present (created: false) must not lose it to a removal decided meanwhile,
 * so removals wait for the puts in flight and the last put to finish carries them out.
 *
 * In-process: servers that share one blob store would need a lease in the database for the same guarantee.
 */
const holds = new Map<string, { count: number; removable: boolean }>();
/** Unreferenced blobs waiting for the puts in flight to finish. */
const pending = new Set<string>();
let putsInFlight = 0;

type IsReferenced = (sha256: string) => Promise<boolean>;

/** Puts a blob and holds it for this request (until `releaseBlob`). */
export async function putAndHold(
  blobs: BlobStore,
  source: BlobSource,
  isReferenced: IsReferenced,
  options?: PutOptions,
): Promise<PutResult> {
  putsInFlight += 1;
  try {
    const stored = await blobs.put(source, options);
    const hold = holds.get(stored.sha256) ?? { count: 0, removable: false };
    hold.count += 1;
    hold.removable ||= stored.created;
    holds.set(stored.sha256, hold);
    return stored;
  } finally {
    putsInFlight -= 1;
    if (putsInFlight === 0) await removePending(blobs, isReferenced);
  }
}

/** Lets go of one hold; after the last one, a blob a holder created is removed unless a row references it. */
export async function releaseBlob(blobs: BlobStore, sha256: string, isReferenced: IsReferenced): Promise<void> {
  const hold = holds.get(sha256);
  if (hold === undefined) return;
  hold.count -= 1;
  if (hold.count > 0) return;
  holds.delete(sha256);
  if (!hold.removable) return;
  pending.add(sha256);
  await removePending(blobs, isReferenced);
}

/**
 * Runs the letting-go of an upload once its rows are committed. That is housekeeping: if it fails (the
 * database went away between the commit and the answer), the upload still happened and must be answered
 * as such, not refused, or the client would retry an upload that is already recorded. A blob whose removal
 * failed stays pending and is removed by a later removal in this process.
 */
export async function letGoAfterCommit(
  log: { warn(details: object, message: string): void },
  letGo: () => Promise<void>,
): Promise<void> {
  try {
    await letGo();
  } catch (error) {
    log.warn({ err: error }, 'releasing the upload after its commit failed; it is retried with a later removal');
  }
}

/** Removes a blob nothing references: now, or when the requests in flight that hold or put blobs are done. */
export async function removeBlobWhenUnused(
  blobs: BlobStore,
  sha256: string,
  isReferenced: IsReferenced,
): Promise<void> {
  const hold = holds.get(sha256);
  if (hold !== undefined) {
    hold.removable = true;
    return;
  }
  pending.add(sha256);
  await removePending(blobs, isReferenced);
}

async function removePending(blobs: BlobStore, isReferenced: IsReferenced): Promise<void> {
  for (const sha256 of [...pending]) {
    if (putsInFlight > 0) return; // the last put to finish comes back here
    if (!pending.has(sha256)) continue; // another caller took it meanwhile
    const hold = holds.get(sha256);
    if (hold !== undefined) {
      // Held again: the new holder decides when it lets go.
      hold.removable = true;
      pending.delete(sha256);
      continue;
    }
    const referenced = await isReferenced(sha256);
    if (putsInFlight > 0) return;
    if (!pending.delete(sha256)) continue;
    if (referenced) continue;
    if (holds.has(sha256)) {
      holds.get(sha256)!.removable = true;
      continue;
    }
    await blobs.delete(sha256);
  }
}
