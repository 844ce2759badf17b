/**
 * Atomic install (issue 5): a release is staged in `releases/.staging-…`, every file and folder fsynced, then
 * renamed to `releases/<sha256>/` (so a folder under that name is always complete), smoke-tested from disk,
 * and only then made current: `previous` and `current` are symlinks swapped by renaming a new link over the
 * old one. Until that last rename `current` names the old release, so a kill -9 at any step leaves a complete,
 * verified model current; `recoverDataFolder` removes what a crash left half-written.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Preprocessing, SignedReleaseManifest } from '@modelfleet/contracts';
import { decodeBundle, materializeStock, unpackBundle, writeArtifact, MODEL_JSON } from '@modelfleet/model-format';
import type { InstallMode } from './config.js';
import {
  fsyncPath,
  readJsonOrNull,
  readLinkOrNull,
  replaceFileAtomically,
  swapSymlink,
  writeFileDurably,
} from './durable.js';
import { InstallFailed, SmokeTestFailed } from './errors.js';
import { LINK_TEMP_PREFIX, RELEASE_FILES, STAGING_PREFIX, type DataLayout } from './layout.js';
import type { SmokeResult } from './smoke.js';

/** What is stored next to an installed release (release.json). */
export interface ReleaseRecord {
  line: string;
  channel: string;
  release: number;
  sha256: string;
  size: number;
  encoding: string;
  variant: string;
  preprocessing: Preprocessing;
  installMode: InstallMode;
  installedAt: string;
  smokeLatencyMs: number | null;
  /** The release manifest as the server signed it (the device can re-verify it at any time). */
  manifest: SignedReleaseManifest;
}

export const INSTALL_STEPS = [
  'staging-created',
  'bundle-written',
  'model-unpacked',
  'stock-written',
  'staging-synced',
  'staging-renamed',
  'smoke-tested',
  'previous-swapped',
  'current-swapped',
] as const;
export type InstallStep = (typeof INSTALL_STEPS)[number];
/** Test seam: called after each step; throwing (or never returning, then kill -9) simulates a crash there. */
export type FaultHook = (step: InstallStep) => void | Promise<void>;

export interface InstallRequest {
  layout: DataLayout;
  /** The verified artifact bytes (sha256 and size already checked). */
  bundleFile: string;
  manifest: SignedReleaseManifest;
  installMode: InstallMode;
  smoke: (modelFolder: string, preprocessing: Preprocessing) => Promise<SmokeResult>;
  fault?: FaultHook;
  now?: () => Date;
}

export interface InstallResult {
  record: ReleaseRecord;
  folder: string;
  previous: string | null;
}

export function releaseFolder(layout: DataLayout, sha256: string): string {
  return path.join(layout.releases, sha256);
}

/** Relative link target, so a data folder stays valid when moved or mounted elsewhere. */
function linkTarget(sha256: string): string {
  return path.join('releases', sha256);
}

async function writeTree(folder: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  await fs.mkdir(folder, { recursive: true });
  for (const [name, bytes] of files) {
    const file = path.join(folder, name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await writeFileDurably(file, bytes);
  }
  await fsyncPath(folder);
}

function stockFiles(bundle: Uint8Array): Map<string, Uint8Array> {
  const written = writeArtifact(materializeStock(decodeBundle(bundle), { dtype: 'float32' }));
  return new Map([[MODEL_JSON, new TextEncoder().encode(written.modelJson)], ...written.shards]);
}

/** sha256 of the link `current`/`previous` names, or null. */
export async function linkedSha256(link: string): Promise<string | null> {
  const target = await readLinkOrNull(link);
  return target === null ? null : path.basename(target);
}

export async function readRecord(folder: string): Promise<ReleaseRecord | null> {
  return readJsonOrNull<ReleaseRecord>(path.join(folder, RELEASE_FILES.record));
}

export async function installRelease(request: InstallRequest): Promise<InstallResult> {
  const { layout, manifest } = request;
  const signed = manifest.signed;
  const sha256 = signed.artifact.sha256;
  const fault = request.fault ?? (() => {});
  const now = request.now ?? (() => new Date());
  const target = releaseFolder(layout, sha256);
  await fs.mkdir(layout.releases, { recursive: true });

  const currentSha = await linkedSha256(layout.current);
  const previousSha = await linkedSha256(layout.previous);
  const record: ReleaseRecord = {
    line: signed.line,
    channel: signed.channel,
    release: signed.release,
    sha256,
    size: signed.artifact.size,
    encoding: signed.artifact.encoding,
    variant: signed.artifact.variant,
    preprocessing: signed.preprocessing,
    installMode: request.installMode,
    installedAt: now().toISOString(),
    smokeLatencyMs: null,
    manifest,
  };

  const exists = await fs.stat(target).then(
    () => true,
    () => false,
  );
  if (exists) {
    // A folder under this name is complete by construction (it appears only by rename). It can exist after a
    // crash between the rename and the swap, or when a newer release names the same artifact.
    if (sha256 === currentSha) {
      const kept = (await readRecord(target))?.smokeLatencyMs ?? null;
      const updated = { ...record, smokeLatencyMs: kept };
      await replaceFileAtomically(path.join(target, RELEASE_FILES.record), JSON.stringify(updated, null, 2));
      return { record: updated, folder: target, previous: previousSha };
    }
  } else {
    const staging = path.join(layout.releases, `${STAGING_PREFIX}${sha256}-${process.pid}-${Date.now()}`);
    await fs.mkdir(staging);
    await fault('staging-created');
    const bundle = new Uint8Array(await fs.readFile(request.bundleFile));
    if (bundle.length !== signed.artifact.size || createHash('sha256').update(bundle).digest('hex') !== sha256)
      throw new InstallFailed(`${request.bundleFile} is not the verified artifact any more`);
    await writeFileDurably(path.join(staging, RELEASE_FILES.bundle), bundle);
    await fault('bundle-written');
    await writeTree(path.join(staging, RELEASE_FILES.model), unpackBundle(bundle));
    await fault('model-unpacked');
    if (request.installMode === 'stock') await writeTree(path.join(staging, RELEASE_FILES.stock), stockFiles(bundle));
    await fault('stock-written');
    await writeFileDurably(path.join(staging, RELEASE_FILES.record), JSON.stringify(record, null, 2));
    await fsyncPath(staging);
    await fault('staging-synced');
    await fs.rename(staging, target);
    await fsyncPath(layout.releases);
    await fault('staging-renamed');
  }
  if (exists) await replaceFileAtomically(path.join(target, RELEASE_FILES.record), JSON.stringify(record, null, 2));

  let smoke: SmokeResult;
  try {
    smoke = await request.smoke(path.join(target, RELEASE_FILES.model), signed.preprocessing);
    if (request.installMode === 'stock')
      await request.smoke(path.join(target, RELEASE_FILES.stock), signed.preprocessing);
  } catch (error) {
    // Never made current: remove it unless `previous` still needs it.
    if (sha256 !== previousSha) await fs.rm(target, { recursive: true, force: true });
    if (SmokeTestFailed.is(error)) throw error;
    // Not the model's fault (the runtime did not start, the disk failed): the install failed, it may be retried.
    throw new InstallFailed(`smoke test could not run: ${(error as Error).message}`, { cause: error });
  }
  record.smokeLatencyMs = Math.round(smoke.latencyMs * 100) / 100;
  await replaceFileAtomically(path.join(target, RELEASE_FILES.record), JSON.stringify(record, null, 2));
  await fault('smoke-tested');

  if (currentSha !== null && currentSha !== sha256)
    await swapSymlink(layout.previous, linkTarget(currentSha), LINK_TEMP_PREFIX);
  await fault('previous-swapped');
  await swapSymlink(layout.current, linkTarget(sha256), LINK_TEMP_PREFIX);
  await fault('current-swapped');
  await pruneReleases(layout);
  return { record, folder: target, previous: currentSha ?? previousSha };
}

/** Deletes release folders neither `current` nor `previous` names. */
async function pruneReleases(layout: DataLayout): Promise<void> {
  const keep = new Set([await linkedSha256(layout.current), await linkedSha256(layout.previous)]);
  for (const name of await fs.readdir(layout.releases).catch(() => [] as string[]))
    if (!keep.has(name)) await fs.rm(path.join(layout.releases, name), { recursive: true, force: true });
}

/**
 * Checks an installed release folder against its own record: the bundle's sha256 and size, and every unpacked
 * file equal to the bundle's. Used at start-up and by tests ("a complete, verified model").
 */
export async function checkReleaseFolder(folder: string): Promise<ReleaseRecord> {
  const record = await readRecord(folder);
  if (record === null) throw new InstallFailed(`${folder} has no ${RELEASE_FILES.record}`);
  const bundle = new Uint8Array(await fs.readFile(path.join(folder, RELEASE_FILES.bundle)));
  if (bundle.length !== record.size || createHash('sha256').update(bundle).digest('hex') !== record.sha256)
    throw new InstallFailed(`${folder}: bundle does not match sha256 ${record.sha256}`);
  for (const [name, bytes] of unpackBundle(bundle)) {
    const onDisk = await fs.readFile(path.join(folder, RELEASE_FILES.model, name));
    if (!onDisk.equals(bytes)) throw new InstallFailed(`${folder}: ${name} differs from the bundle`);
  }
  return record;
}

export interface RecoveryReport {
  removed: string[];
  /** Set when `current` was unusable and was pointed back at `previous` (or removed). */
  repointed: string | null;
}

/** Start-up clean-up after a crash: half-written staging folders, temporary links, unreferenced releases. */
export async function recoverDataFolder(layout: DataLayout): Promise<RecoveryReport> {
  const removed: string[] = [];
  await fs.mkdir(layout.releases, { recursive: true });
  for (const name of await fs.readdir(layout.releases)) {
    if (name.startsWith(STAGING_PREFIX)) {
      await fs.rm(path.join(layout.releases, name), { recursive: true, force: true });
      removed.push(path.join('releases', name));
    }
  }
  for (const name of await fs.readdir(layout.root)) {
    if (name.startsWith(LINK_TEMP_PREFIX) || name.endsWith('.tmp')) {
      await fs.rm(path.join(layout.root, name), { force: true });
      removed.push(name);
    }
  }
  let repointed: string | null = null;
  const currentSha = await linkedSha256(layout.current);
  if (currentSha !== null) {
    try {
      await checkReleaseFolder(releaseFolder(layout, currentSha));
    } catch {
      // Cannot happen through installRelease (current only ever names a renamed, complete folder); guards
      // against a disk that lost data anyway: fall back to the previous release rather than run a broken one.
      const previousSha = await linkedSha256(layout.previous);
      if (previousSha !== null && previousSha !== currentSha) {
        await swapSymlink(layout.current, linkTarget(previousSha), LINK_TEMP_PREFIX);
        repointed = previousSha;
      } else {
        await fs.rm(layout.current, { force: true });
        repointed = 'none';
      }
    }
  }
  const keep = new Set([await linkedSha256(layout.current), await linkedSha256(layout.previous)]);
  for (const name of await fs.readdir(layout.releases)) {
    if (!keep.has(name)) {
      await fs.rm(path.join(layout.releases, name), { recursive: true, force: true });
      removed.push(path.join('releases', name));
    }
  }
  return { removed, repointed };
}

/** What `current` runs, with its record, or null on a device with no model yet. */
export async function currentRelease(layout: DataLayout): Promise<ReleaseRecord | null> {
  const sha = await linkedSha256(layout.current);
  return sha === null ? null : readRecord(releaseFolder(layout, sha));
}
