import { ArchiveUnsafePath } from './errors.js';

/**
 * Splits an archive entry name into safe segments. Refuses absolute paths (`/x`, `C:\x`, `\\host`),
 * any `..` segment, whether or not it would climb out, and any segment with a colon: a drive letter
 * can hide behind dot segments (`.\C:\.` would otherwise become `C:`), and on Windows `name:stream`
 * names an alternate data stream. Nothing legitimate in an upload needs one, and refusing is simpler
 * to reason about than resolving.
 */
export function safeSegments(name: string): string[] {
  const unified = name.replace(/\\/g, '/');
  if (unified.startsWith('/') || /^[A-Za-z]:/.test(unified) || unified.includes('\0')) {
    throw new ArchiveUnsafePath(JSON.stringify(name));
  }
  const segments = unified.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.some((segment) => segment === '..' || segment.includes(':')))
    throw new ArchiveUnsafePath(JSON.stringify(name));
  return segments;
}

/** Hidden files and macOS resource forks, which archivers add and nobody means to upload. */
export function isHiddenPath(segments: readonly string[]): boolean {
  return segments.some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}
