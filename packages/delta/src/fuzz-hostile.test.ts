import { brotliCompressSync } from 'node:zlib';
import { isModelFleetError } from '@modelfleet/errors';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brotli } from './codec.js';
import { HEADER_BYTES, readContainer, writeContainer } from './container.js';
import {
  DeltaBaseMismatch,
  DeltaCorrupt,
  DeltaResultMismatch,
  applyDelta,
  encodeDelta,
  inspectDelta,
} from './index.js';
import { bundleOf, floatModel } from './testing.js';

/**
 * The delta decoder against a compromised mirror (hardening, issue 8): deltas that are not deltas, and
 * containers whose checksums are right but whose header and program are chosen by the attacker — random
 * programs, every header field set to hostile sizes, brotli bombs. applyDelta and inspectDelta must
 * answer with one of the delta errors, in bounded time (a per-case timeout), and never build a result
 * that is not the bundle the delta names. (delta.test.ts covers truncation and flips of real deltas.)
 */

const OWN = [DeltaBaseMismatch.code, DeltaCorrupt.code, DeltaResultMismatch.code];
const PER_CASE = { timeout: 5_000, numRuns: 300 };
const FAST = { quality: 5, selectionQuality: 1 } as const;

const layers = [
  { name: 'dense_0', inputs: 12, units: 8, bias: true },
  { name: 'dense_1', inputs: 8, units: 3, bias: false },
];
const oldBundle = bundleOf({ ...floatModel(layers, 3), metadata: 'v1' }, () => 'uint8');
const newBundle = bundleOf({ ...floatModel(layers, 4), metadata: 'v2' }, () => 'int8');
const genuine = encodeDelta(oldBundle, newBundle, FAST).bytes;
const genuineHeader = readContainer(genuine).header;

function outcome(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (!isModelFleetError(error) || !OWN.includes(error.code)) throw error;
    return error.code;
  }
}

/** A container the attacker built: right magic, version and checksums, any sizes and sections. */
function container(
  fields: Partial<{ fromSha256: string; toSha256: string; fromSize: number; toSize: number; programRawBytes: number }>,
  program: Uint8Array,
  data: Uint8Array,
): Uint8Array {
  return writeContainer(
    {
      fromSha256: genuineHeader.fromSha256,
      toSha256: genuineHeader.toSha256,
      fromSize: oldBundle.length,
      toSize: newBundle.length,
      programRawBytes: program.length,
      ...fields,
    },
    program,
    data,
  );
}

const u32 = fc.oneof(fc.constantFrom(0, 1, 108, 0x7fffffff, 0xffffffff), fc.nat({ max: 0xffffffff }));
/** Varint-ish program bytes: small numbers (plausible counts, lengths, opcodes) and long continuation runs. */
const programBytes = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .array(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom(0x80, 0xff, 0x7f)), { maxLength: 200 })
    .map((values) => Uint8Array.from(values)),
);

describe('applyDelta and inspectDelta against hostile deltas', () => {
  it('any bytes, with or without the magic in front: a delta error, never anything else', async () => {
    const magic = new TextEncoder().encode('MFDELTA\0');
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 400 }), async (withMagic, rest) => {
        const bytes = withMagic ? new Uint8Array([...magic, ...rest]) : rest;
        expect(outcome(() => applyDelta(oldBundle, bytes))).not.toBe('accepted');
        const inspected = outcome(() => inspectDelta(bytes));
        if (inspected !== 'accepted') expect(inspected).toBe(DeltaCorrupt.code);
      }),
      PER_CASE,
    );
  });

  it('valid checksums around a random program and data: refused, in bounded time', async () => {
    await fc.assert(
      fc.asyncProperty(programBytes, fc.uint8Array({ maxLength: 300 }), fc.boolean(), async (raw, data, compress) => {
        const program = compress ? brotli(raw, 1) : raw;
        const delta = container({ programRawBytes: raw.length }, program, data);
        expect(outcome(() => applyDelta(oldBundle, delta))).not.toBe('accepted');
      }),
      { ...PER_CASE, numRuns: 600 },
    );
  }, 60_000);

  it('hostile header sizes (old/new bundle, program raw size) with valid checksums: refused before large allocations', async () => {
    const { program, data } = readContainer(genuine);
    await fc.assert(
      fc.asyncProperty(u32, u32, u32, async (fromSize, toSize, programRawBytes) => {
        const delta = container({ fromSize, toSize, programRawBytes }, program, data);
        const result = outcome(() => applyDelta(oldBundle, delta));
        const untouched =
          fromSize === oldBundle.length &&
          toSize === newBundle.length &&
          programRawBytes === genuineHeader.programRawBytes;
        if (!untouched) expect(result).not.toBe('accepted');
      }),
      PER_CASE,
    );
  }, 60_000);

  it('a brotli bomb as the program (16 MiB of zeros in a few bytes, any declared raw size): refused', async () => {
    const bomb = new Uint8Array(brotliCompressSync(new Uint8Array(16 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(1024);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(1, 1024, 16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 0xffffffff), async (raw) => {
        expect(outcome(() => applyDelta(oldBundle, container({ programRawBytes: raw }, bomb, new Uint8Array(0))))).toBe(
          DeltaCorrupt.code,
        );
      }),
      { ...PER_CASE, numRuns: 5 },
    );
  }, 60_000);

  it('only the genuine delta rebuilds, and what it rebuilds is the bundle it names', () => {
    expect(applyDelta(oldBundle, genuine)).toEqual(newBundle);
    // The same sections under another target hash: rebuilt, then refused by the hash check.
    const { program, data } = readContainer(genuine);
    const renamed = container(
      { toSha256: 'ff'.repeat(32), programRawBytes: genuineHeader.programRawBytes },
      program,
      data,
    );
    expect(outcome(() => applyDelta(oldBundle, renamed))).toBe(DeltaResultMismatch.code);
    expect(genuine.length).toBeGreaterThan(HEADER_BYTES);
  });
});
