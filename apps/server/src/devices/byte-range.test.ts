import { describe, expect, it } from 'vitest';
import { ifNoneMatchMatches, parseByteRange } from './byte-range.js';

describe('parseByteRange', () => {
  it.each([
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=10-19', { start: 10, end: 19 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-1000', { start: 0, end: 99 }],
    ['bytes=95-1000', { start: 95, end: 99 }],
    [' BYTES = 1 - 2 ', { start: 1, end: 2 }],
  ])('reads %s against 100 bytes', (header, expected) => {
    expect(parseByteRange(header, 100)).toEqual(expected);
  });

  it.each(['bytes=100-', 'bytes=100-200', 'bytes=-0'])('calls %s unsatisfiable against 100 bytes', (header) => {
    expect(parseByteRange(header, 100)).toBe('unsatisfiable');
  });

  it.each([undefined, 'bytes=-', 'bytes=5-2', 'bytes=0-1,3-4', 'items=0-1', 'bytes=a-b'])(
    'ignores %s (whole blob)',
    (header) => {
      expect(parseByteRange(header, 100)).toBeUndefined();
    },
  );
});

describe('ifNoneMatchMatches', () => {
  it('matches the tag in a list, weak or strong, and *; nothing else', () => {
    expect(ifNoneMatchMatches('"a", "b"', '"b"')).toBe(true);
    expect(ifNoneMatchMatches('W/"b"', '"b"')).toBe(true);
    expect(ifNoneMatchMatches('*', '"b"')).toBe(true);
    expect(ifNoneMatchMatches('"bb"', '"b"')).toBe(false);
    expect(ifNoneMatchMatches(undefined, '"b"')).toBe(false);
  });
});
