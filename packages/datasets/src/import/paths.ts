import { ArchiveUnsafePath } from '../errors.js';

/**
 * Splits an archive entry name into safe segments. Refuses absolute paths (`/x`, `C:\x`, `\\host`)
 * and any `..` segment, whether or not it would climb out: nothing legitimate in an image folder
 * needs one, and refusing is simpler to reason about than resolving.
 */
export function safeSegments(name: string): string[] {
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified) || unified.includes('\0')) {
    throw new ArchiveUnsafePath(JSON.stringify(name));
  }
  const segments = unified.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..')) throw new ArchiveUnsafePath(JSON.stringify(name));
  return segments;
}

const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;

/** Image files we read; hidden files and macOS resource forks are ignored. */
export function isImagePath(segments: readonly string[]): boolean {
  const file = segments[segments.length - 1];
  if (file === undefined || !IMAGE_EXTENSION.test(file)) return false;
  return !segments.some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}
