export interface ImportOptions {
  /** Square side in pixels every image is resized to. */
  size: number;
  /**
   * The expected classes, in label order. A class folder not in this list is refused
   * (MF_ERR_DATASET_UNKNOWN_LABEL). Without it, the folder names sorted are the classes.
   */
  classNames?: readonly string[];
  /** How an image that is not square is fitted: crop the centre (default), stretch, or pad. */
  fit?: 'cover' | 'fill' | 'contain';
  /** Most entries (files and folders) an archive or folder may hold. Default 50,000. */
  maxEntries?: number;
  /** Most bytes the archive may expand to (or the folder's images may hold). Default 1 GiB. */
  maxExpandedBytes?: number;
}

export const DEFAULT_MAX_ENTRIES = 50_000;
export const DEFAULT_MAX_EXPANDED_BYTES = 1 << 30;

/** One file of an image folder or archive, by its path relative to the root ('/'-separated). */
export interface ImageEntry {
  path: string;
  bytes: Uint8Array;
}
