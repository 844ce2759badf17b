/**
 * The data folder, one place:
 *   device.json             the device's identity and token (0600)
 *   state.json              last poll, last error, refused artifacts (what `status` shows besides the links)
 *   downloads/<sha>.part    a download in progress (resumed with Range)
 *   releases/<sha>/         an installed release (complete: it only appears by rename of a staged folder)
 *   releases/.staging-*     a release being written (deleted on start-up: a crash left it half-written)
 *   current, previous       symlinks to releases/<sha> (swapped by rename of a temporary link)
 *   outbox/*.json           reports not yet accepted by the server
 */
import path from 'node:path';

export interface DataLayout {
  root: string;
  deviceFile: string;
  stateFile: string;
  downloads: string;
  releases: string;
  current: string;
  previous: string;
  outbox: string;
}

export function dataLayout(root: string): DataLayout {
  return {
    root,
    deviceFile: path.join(root, 'device.json'),
    stateFile: path.join(root, 'state.json'),
    downloads: path.join(root, 'downloads'),
    releases: path.join(root, 'releases'),
    current: path.join(root, 'current'),
    previous: path.join(root, 'previous'),
    outbox: path.join(root, 'outbox'),
  };
}

export const STAGING_PREFIX = '.staging-';
export const LINK_TEMP_PREFIX = '.link-';
/** Inside a release folder. */
export const RELEASE_FILES = {
  bundle: 'artifact.mfbundle',
  model: 'model',
  stock: 'stock',
  record: 'release.json',
} as const;
