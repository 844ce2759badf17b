import { brotliDecompressSync } from 'node:zlib';
import { isModelFleetError } from '@modelfleet/errors';
import { sha256Hex, unpackBundle } from '@modelfleet/model-format';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brotli } from './codec.js';
import { HEADER_BYTES, readContainer, writeContainer } from './container.js';
import {
  DELTA_FORMAT,
  DeltaBaseMismatch,
  DeltaCorrupt,
  DeltaResultMismatch,
  applyDelta,
  encodeDelta,
  inspectDelta,
} from './index.js';
import {
  type DenseSpec,
  type FloatModel,
  TEST_ENCODINGS,
  type TestEncoding,
  bundleOf,
  floatModel,
  gaussian,
  random,
  shapesOf,
} from './testing.js';

const FAST = { quality: 5, selectionQuality: 1 } as const;

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (isModelFleetError(error)) return error.code;
    return `not a ModelFleet error: ${String(error)}`;
  }
  return 'accepted';
}

const layersArb = fc
  .array(
    fc.record({
      inputs: fc.integer({ min: 1, max: 12 }),
      units: fc.integer({ min: 1, max: 10 }),
      bias: fc.boolean(),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((layers) => layers.map((l, i): DenseSpec => ({ name: `dense_${i}`, ...l })));

type Edit = 'same' | 'nudge' | 'reinit' | 'reencode';
type LayerEdit = 'keep' | 'reshape' | 'remove';

interface Scenario {
  readonly layers: DenseSpec[];
  readonly seed: number;
  readonly oldEncodings: TestEncoding[];
  readonly edits: Edit[];
  readonly newEncodings: TestEncoding[];
  readonly layerEdits: LayerEdit[];
  readonly addLayer: boolean;
  readonly metadata: [string | undefined, string | undefined];
}

const scenarioArb = layersArb.chain((layers) => {
  const n = layers.length * 2;
  return fc.record({
    layers: fc.constant(layers),
    seed: fc.integer({ min: 1, max: 1 << 30 }),
    oldEncodings: fc.array(fc.constantFrom(...TEST_ENCODINGS), { minLength: n, maxLength: n }),
    edits: fc.array(fc.constantFrom<Edit>('same', 'same', 'nudge', 'nudge', 'reinit', 'reencode'), {
      minLength: n,
      maxLength: n,
    }),
    newEncodings: fc.array(fc.constantFrom(...TEST_ENCODINGS), { minLength: n, maxLength: n }),
    layerEdits: fc.array(fc.constantFrom<LayerEdit>('keep', 'keep', 'keep', 'reshape', 'remove'), {
      minLength: layers.length,
      maxLength: layers.length,
    }),
    addLayer: fc.boolean(),
    metadata: fc.tuple(fc.option(fc.string(), { nil: undefined }), fc.option(fc.string(), { nil: undefined })),
  });
});

/** Old and new bundles of a scenario: the new model edits the old one's weights, layers and metadata. */
function pairOf(s: Scenario): { old: Uint8Array; next: Uint8Array } {
  const base = floatModel(s.layers, s.seed);
  const names = s.layers.flatMap((l) => [`${l.name}/kernel`, `${l.name}/bias`]);
  const encodingIndex = (name: string) => names.indexOf(name);
  const old = bundleOf({ ...base, metadata: s.metadata[0] }, (name) => s.oldEncodings[encodingIndex(name)]!);

  const next = random(s.seed + 1);
  const layers: DenseSpec[] = [];
  s.layers.forEach((l, i) => {
    const edit = s.layerEdits[i];
    if (edit === 'remove' && s.layers.length > 1) return;
    layers.push(edit === 'reshape' ? { ...l, units: l.units + 1 } : l);
  });
  if (s.addLayer) layers.push({ name: 'added', inputs: 3, units: 2, bias: true });
  const weights = new Map<string, Float32Array>();
  const encodings = new Map<string, TestEncoding>();
  for (const layer of layers)
    for (const [name, shape] of shapesOf(layer)) {
      const size = shape.reduce((a, b) => a * b, 1);
      const before = base.weights.get(name);
      const k = encodingIndex(name);
      const edit = k >= 0 ? s.edits[k]! : 'reinit';
      const oldEncoding = k >= 0 ? s.oldEncodings[k]! : 'float32';
      if (before === undefined || before.length !== size || edit === 'reinit') {
        weights.set(name, gaussian(next, size, 0.1));
        encodings.set(name, k >= 0 ? s.newEncodings[k]! : 'int8');
        continue;
      }
      if (edit === 'nudge') {
        // a fine-tune step: small noise, and each channel's largest weight grows (so its range, hence
        // its quantization scale, changes and re-quantizing moves every integer of the channel)
        const noise = gaussian(next, size, 0.001);
        const moved = before.map((v, i) => v + noise[i]!);
        const channels = shape[shape.length - 1]!;
        for (let c = 0; c < channels; c++) {
          let largest = c;
          for (let i = c; i < size; i += channels) if (Math.abs(moved[i]!) > Math.abs(moved[largest]!)) largest = i;
          moved[largest] = moved[largest]! * 1.3;
        }
        weights.set(name, moved);
      } else weights.set(name, before);
      encodings.set(name, edit === 'reencode' ? s.newEncodings[k]! : oldEncoding);
    }
  const model: FloatModel = { layers, weights, metadata: s.metadata[1] };
  return { old, next: bundleOf(model, (name) => encodings.get(name)!) };
}

/** A realistic pair: most tensors nudged, one replaced, uint8 and int8 and float tensors. */
function samplePair(): { old: Uint8Array; next: Uint8Array } {
  return pairOf({
    layers: [
      { name: 'dense_0', inputs: 96, units: 64, bias: true },
      { name: 'dense_1', inputs: 64, units: 48, bias: true },
      { name: 'dense_2', inputs: 48, units: 8, bias: false },
    ],
    seed: 7,
    oldEncodings: ['uint8', 'float32', 'int8', 'float16', 'float32', 'float32'],
    edits: ['nudge', 'same', 'nudge', 'nudge', 'reinit', 'same'],
    newEncodings: ['uint8', 'float32', 'int8', 'float16', 'float32', 'float32'],
    layerEdits: ['keep', 'keep', 'keep'],
    addLayer: false,
    metadata: ['v1', 'v2'],
  });
}

describe('encodeDelta / applyDelta round trip', () => {
  it('rebuilds the new bundle byte for byte over random models, encodings and edits', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { old, next } = pairOf(s);
        const delta = encodeDelta(old, next, FAST);
        const header = inspectDelta(delta.bytes);
        expect(header).toMatchObject({
          format: DELTA_FORMAT,
          fromSha256: sha256Hex(old),
          toSha256: sha256Hex(next),
          fromSize: old.length,
          toSize: next.length,
          deltaBytes: delta.bytes.length,
        });
        expect(sha256Hex(applyDelta(old, delta.bytes))).toBe(sha256Hex(next));
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('references unchanged tensors, diffs nudged ones and sends replaced ones whole', () => {
    const { old, next } = samplePair();
    const { stats, bytes } = encodeDelta(old, next);
    const choice = Object.fromEntries(stats.perTensor.map((t) => [t.name, t.choice]));
    expect(choice).toEqual({
      'dense_0/kernel': 'diffed',
      'dense_0/bias': 'referenced',
      'dense_1/kernel': 'diffed',
      'dense_1/bias': choice['dense_1/bias'],
      'dense_2/kernel': 'raw',
    });
    expect(stats.modelJsonMode).toBe('diff');
    expect(applyDelta(old, bytes)).toEqual(next);
  });

  it('sends a small changed float tensor as one plane when byte planes would cost more in the program', () => {
    const pair = (bias: 'same' | 'reinit') =>
      pairOf({
        layers: [{ name: 'head', inputs: 64, units: 5, bias: true }],
        seed: 11,
        oldEncodings: ['float32', 'float32'],
        edits: ['same', bias],
        newEncodings: ['float32', 'float32'],
        layerEdits: ['keep'],
        addLayer: false,
        metadata: ['v1', 'v1'],
      });
    const unchanged = pair('same');
    const changed = pair('reinit');
    const base = encodeDelta(unchanged.old, unchanged.next).bytes.length;
    const delta = encodeDelta(changed.old, changed.next);
    expect(applyDelta(changed.old, delta.bytes)).toEqual(changed.next);
    // 20 new bytes of noise, one operation and one segment with one plane: 29 bytes more than no change at
    // all (deterministic data; with four byte planes, each with its own entry in the program: 33).
    expect(delta.bytes.length - base).toBeLessThanOrEqual(20 + 9);
  });

  it('makes a delta of an identical bundle far smaller than the bundle', () => {
    const { old } = samplePair();
    const delta = encodeDelta(old, old);
    expect(delta.stats.referenced).toBe(delta.stats.perTensor.length);
    expect(delta.bytes.length).toBeLessThan(HEADER_BYTES + 64);
    expect(applyDelta(old, delta.bytes)).toEqual(old);
  });

  it('predicts re-quantized integers from the old scales, so a nudged uint8/int8 tensor costs little', () => {
    const { old, next } = samplePair();
    const { stats } = encodeDelta(old, next);
    const byName = new Map(stats.perTensor.map((t) => [t.name, t]));
    expect(byName.get('dense_0/kernel')!.transforms).toEqual(['affine']);
    expect(byName.get('dense_1/kernel')!.transforms[1]).toBe('channel');
    // uint8 at ~8 bits per weight raw; predicted residuals are mostly 0 and +-1
    expect(byName.get('dense_0/kernel')!.deltaBytes).toBeLessThan(96 * 64 * 0.25);
  });
});

describe('deltas across encodings', () => {
  it('predicts int8 and uint8 tensors from the old float32/float16/uint8 values on the new grid', () => {
    const layers: DenseSpec[] = [{ name: 'dense_0', inputs: 64, units: 32, bias: false }];
    const model = floatModel(layers, 11);
    for (const [from, to] of [
      ['float32', 'int8'],
      ['float16', 'uint8'],
      ['uint8', 'int8'],
      ['int8', 'uint8'],
      ['float32', 'float16'],
    ] as const) {
      const old = bundleOf(model, () => from);
      const next = bundleOf(model, () => to);
      const { bytes, stats } = encodeDelta(old, next);
      const kernel = stats.perTensor[0]!;
      expect(kernel.transforms).toContain('requant');
      expect(kernel.choice).toBe('diffed');
      // the same float model re-encoded: from float values the residuals are (nearly) all zero; from a
      // coarser integer grid they carry what that grid lost, still far less than the tensor
      expect(kernel.deltaBytes).toBeLessThan(kernel.rawBytes * (from.startsWith('float') ? 0.1 : 0.3));
      expect(applyDelta(old, bytes)).toEqual(next);
    }
  });

  it('follows a per-channel rescaling (batch norm folded into the kernel) with per-channel factors', () => {
    const layers: DenseSpec[] = [{ name: 'dense_0', inputs: 64, units: 32, bias: false }];
    const model = floatModel(layers, 12);
    const kernel = model.weights.get('dense_0/kernel')!;
    const folded = kernel.map((v, i) => v * (0.5 + (i % 32) / 16));
    const old = bundleOf(model, () => 'float32');
    const next = bundleOf({ ...model, weights: new Map([['dense_0/kernel', folded]]) }, () => 'int8');
    const { bytes, stats } = encodeDelta(old, next);
    const stat = stats.perTensor[0]!;
    expect(stat.transforms).toEqual(['none', 'requant']);
    // 128 bytes of scales + 128 bytes of factors + near-zero residuals, of 2,176
    expect(stat.deltaBytes).toBeLessThan(400);
    expect(applyDelta(old, bytes)).toEqual(next);
  });
});

describe('applyDelta refuses bad input with a specific error', () => {
  const { old, next } = samplePair();
  const delta = encodeDelta(old, next).bytes;

  it('refuses a delta made for another base', () => {
    expect(codeOf(() => applyDelta(next, delta))).toBe(DeltaBaseMismatch.code);
    const tampered = old.slice();
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(codeOf(() => applyDelta(tampered, delta))).toBe(DeltaBaseMismatch.code);
  });

  it('refuses every truncation', () => {
    for (let length = 0; length < delta.length; length += Math.max(1, Math.floor(delta.length / 97)))
      expect(codeOf(() => applyDelta(old, delta.subarray(0, length)))).toBe(DeltaCorrupt.code);
    expect(codeOf(() => inspectDelta(delta.subarray(0, 50)))).toBe(DeltaCorrupt.code);
  });

  it('refuses random byte corruption', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(delta.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }),
        (flips) => {
          const bad = delta.slice();
          for (const [at, x] of flips) bad[at] = bad[at]! ^ x;
          expect(codeOf(() => applyDelta(old, bad))).toBe(DeltaCorrupt.code);
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('refuses corrupt programs and data behind valid checksums, never with another error', () => {
    const { header, program, data } = readContainer(delta);
    const raw = new Uint8Array(brotliDecompressSync(program));
    const rewrap = (p: Uint8Array, d: Uint8Array) =>
      writeContainer(
        {
          fromSha256: header.fromSha256,
          toSha256: header.toSha256,
          fromSize: old.length,
          toSize: next.length,
          programRawBytes: p.length,
        },
        brotli(p, 1),
        d,
      );
    expect(applyDelta(old, rewrap(raw, data))).toEqual(next);
    const allowed = [DeltaCorrupt.code, DeltaResultMismatch.code];
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }),
        fc.nat(8),
        (inProgram, edits, cut) => {
          const p = raw.slice();
          const d = data.slice();
          const target = inProgram ? p : d;
          for (const [at, value] of edits) if (target.length > 0) target[at % target.length] = value;
          const candidate = rewrap(
            inProgram ? p.subarray(0, Math.max(0, p.length - cut)) : p,
            inProgram ? d : d.subarray(0, Math.max(0, d.length - cut)),
          );
          const code = codeOf(() => applyDelta(old, candidate));
          if (code !== 'accepted') expect(allowed).toContain(code);
        },
      ),
      { numRuns: 400 },
    );
  }, 60_000);

  it('refuses a delta whose declared new size exceeds the bound before building anything', () => {
    const { header, program, data } = readContainer(delta);
    const huge = writeContainer(
      {
        fromSha256: header.fromSha256,
        toSha256: header.toSha256,
        fromSize: old.length,
        toSize: 0xffffffff,
        programRawBytes: header.programRawBytes,
      },
      program,
      data,
    );
    expect(codeOf(() => applyDelta(old, huge))).toBe(DeltaCorrupt.code);
    expect(codeOf(() => applyDelta(old, delta, { maxBundleBytes: next.length - 1 }))).toBe(DeltaCorrupt.code);
  });

  it('refuses a delta naming another result', () => {
    const { header, program, data } = readContainer(delta);
    const other = writeContainer(
      {
        fromSha256: header.fromSha256,
        toSha256: '00'.repeat(32),
        fromSize: old.length,
        toSize: next.length,
        programRawBytes: header.programRawBytes,
      },
      program,
      data,
    );
    expect(codeOf(() => applyDelta(old, other))).toBe(DeltaResultMismatch.code);
  });

  it('the old bundle it is applied to still unpacks afterwards (never modified)', () => {
    const before = sha256Hex(old);
    applyDelta(old, delta);
    expect(sha256Hex(old)).toBe(before);
    expect(unpackBundle(old).size).toBeGreaterThan(1);
  });
});
