import { DELTA_FORMAT } from '@modelfleet/delta';

/** The delta format offers name (`delta.format`), e.g. `mfdelta/1`. */
export const DELTA_FORMAT_NAME: string = DELTA_FORMAT;
/** Its version, stored with each artifact_deltas row: rows of another version are recomputed, never offered. */
export const DELTA_FORMAT_VERSION = Number(/(\d+)$/.exec(DELTA_FORMAT)?.[1] ?? '0');
