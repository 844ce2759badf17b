import { ArchiveUnsafePath } from './errors.js';

/**
 * Splits an archive entry name into safe segments. Refuses absolute paths (`/x`, `C:\x`, `\\host`)
 * and any `..` segment, whether or not it would climb out: nothing legitimate in an upload needs one,
 * and refusing is simpler to reason about than resolving.
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

/** Hidden files and macOS resource forks, which archivers add and nobody means to upload. */
export function isHiddenPath(segments: readonly string[]): boolean {
  return segments.some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}
