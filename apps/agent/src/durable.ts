/**
 * Durable file operations: a rename is atomic on POSIX, but only durable after the parent folder is fsynced
 * (ext4 with data=ordered can otherwise lose the new name on power loss; see the ext4 and LWN "ext4 and data
 * loss" notes). Every write that matters goes temp file -> fsync -> rename -> fsync(folder).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export async function fsyncPath(target: string): Promise<void> {
  const handle = await fs.open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileDurably(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  const handle = await fs.open(file, 'w', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes via a temporary name and renames over `file`: readers see the old or the new contents, never a mix. */
export async function replaceFileAtomically(file: string, bytes: Uint8Array | string, mode = 0o644): Promise<void> {
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFileDurably(temporary, bytes, mode);
    await fs.rename(temporary, file);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await fsyncPath(path.dirname(file));
}

/** Points the symlink `link` at `target` atomically: a new link at a temporary name, renamed over the old. */
export async function swapSymlink(link: string, target: string, tempPrefix: string): Promise<void> {
  const temporary = path.join(
    path.dirname(link),
    `${tempPrefix}${path.basename(link)}-${randomBytes(6).toString('hex')}`,
  );
  await fs.symlink(target, temporary);
  try {
    await fs.rename(temporary, link);
  } catch (error) {
    await fs.rm(temporary, { force: true });
    throw error;
  }
  await fsyncPath(path.dirname(link));
}

export async function readLinkOrNull(link: string): Promise<string | null> {
  try {
    return await fs.readlink(link);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'EINVAL')
      return null;
    throw error;
  }
}

export async function readJsonOrNull<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
