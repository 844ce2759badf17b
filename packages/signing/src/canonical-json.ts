import { CanonicalJsonInvalid } from './errors.js';

/**
 * Canonical JSON: object keys sorted by code unit, no insignificant white space, only finite numbers,
 * no undefined. Two parties that hold the same value produce the same bytes, so a signature over these
 * bytes verifies no matter how the JSON travelled (re-serialised by a proxy, pretty-printed on disk).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, 0);
}

const MAX_DEPTH = 64;

function serialise(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw new CanonicalJsonInvalid(`nested deeper than ${MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonInvalid(`number ${value} is not finite`);
      return JSON.stringify(value);
    case 'object': {
      // As JSON.stringify does, an undefined array slot is null (an undefined object member is dropped below).
      if (Array.isArray(value)) return `[${value.map((item) => serialise(item ?? null, depth + 1)).join(',')}]`;
      const prototype = Object.getPrototypeOf(value) as unknown;
      if (prototype !== Object.prototype && prototype !== null) {
        throw new CanonicalJsonInvalid('only plain objects, arrays, strings, finite numbers, booleans and null');
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, item]) => item !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${serialise(item, depth + 1)}`).join(',')}}`;
    }
    default:
      throw new CanonicalJsonInvalid(`${typeof value} is not JSON`);
  }
}
