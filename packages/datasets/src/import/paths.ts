import { isHiddenPath } from '@modelfleet/archive';

const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;

/** Image files we read; hidden files and macOS resource forks are ignored. */
export function isImagePath(segments: readonly string[]): boolean {
  const file = segments[segments.length - 1];
  if (file === undefined || !IMAGE_EXTENSION.test(file)) return false;
  return !isHiddenPath(segments);
}
