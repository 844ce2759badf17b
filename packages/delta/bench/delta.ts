/**
 * npm run bench:delta — update pairs from the demo-model fixtures (whatever packages/demo-models/
 * fixtures/manifest.json lists: every model with a parent is an update from that parent) x encodings
 * (float32, float16, stock uint8 per-tensor affine = theta1, per-channel int8, and the delta-friendly
 * uint8/int8 that reuse the previous release's ranges) x tools (ours, zstd --patch-from, bsdiff,
 * xdelta3, plain brotli of the new file). All sizes are of the canonical bundle a device installs.
 * Prints markdown and writes bench-results/delta.md at the repository root.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';
import {
  createDemoDatasets,
  createTrainingRuntime,
  measureAccuracy,
  shiftedDatasetSpec,
} from '@modelfleet/demo-models';
import { type ModelArtifact, encodeBundle, readArtifact, sha256Hex, toTfjsArtifacts } from '@modelfleet/model-format';
import {
  quantizeDynamicRangeUint8,
  quantizeFloat16,
  quantizePerChannelInt8,
  quantizePerChannelInt8Reusing,
  quantizeUint8Reusing,
} from '@modelfleet/quantize';
import { applyDelta, encodeDelta } from '../src/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const fixtures = path.join(repoRoot, 'packages', 'demo-models', 'fixtures');

interface ManifestModel {
  name: string;
  parent: string | null;
  description: string;
}

/** The update kinds issue 6 asks for, recognised in a fixture's name or description. */
const EXPECTED_KINDS: { kind: string; match: RegExp }[] = [
  // most specific first: a partial fine-tune's description may mention the head, a low-rate one "fine-tune"
  { kind: 'retrain from scratch', match: /scratch|other seed|reinit/i },
  { kind: 'low-learning-rate fine-tune', match: /low[- ]?(lr|learning|rate)/i },
  { kind: 'partial fine-tune', match: /partial|top-?\d|blocks/i },
  { kind: 'head-only retrain', match: /head/i },
  { kind: 'full fine-tune', match: /fine-?tune/i },
];

function kindOf(model: ManifestModel): string {
  return EXPECTED_KINDS.find((k) => k.match.test(`${model.name} ${model.description}`))?.kind ?? model.name;
}

function loadFloat(name: string): ModelArtifact {
  const dir = path.join(fixtures, name);
  const files = new Map<string, Uint8Array>();
  for (const file of fs.readdirSync(dir)) files.set(file, new Uint8Array(fs.readFileSync(path.join(dir, file))));
  return readArtifact(files);
}

type EncodingId =
  'float32' | 'float16' | 'uint8' | 'int8' | 'uint8 + reuse' | 'int8 + reuse' | 'int8 + reuse, exact rounding';
const ENCODINGS: { id: EncodingId; make: (next: ModelArtifact, previousRelease: ModelArtifact) => ModelArtifact }[] = [
  { id: 'float32', make: (a) => a },
  { id: 'float16', make: (a) => quantizeFloat16(a) },
  { id: 'uint8', make: (a) => quantizeDynamicRangeUint8(a) },
  { id: 'int8', make: (a) => quantizePerChannelInt8(a) },
  { id: 'uint8 + reuse', make: (a, previous) => quantizeUint8Reusing(a, previous) },
  { id: 'int8 + reuse', make: (a, previous) => quantizePerChannelInt8Reusing(a, previous) },
  // a stricter policy than quantize's default: reused grids, but every weight rounded to its nearest
  // integer (no previous integer kept while within a few steps of the new value)
  {
    id: 'int8 + reuse, exact rounding',
    make: (a, previous) => quantizePerChannelInt8Reusing(a, previous, { keepWithinSteps: 0 }),
  },
];
/** The release a delta-friendly encoding quantizes against: the old model in the plain encoding. */
const PLAIN_OF: Partial<Record<EncodingId, EncodingId>> = {
  'uint8 + reuse': 'uint8',
  'int8 + reuse': 'int8',
  'int8 + reuse, exact rounding': 'int8',
};

type Tool = 'ours' | 'zstd' | 'bsdiff' | 'xdelta3' | 'brotli';
const ANCHORS: Tool[] = ['zstd', 'bsdiff', 'xdelta3', 'brotli'];
interface Measure {
  bytes: number;
  encodeMs: number;
  applyMs: number;
}

// The reference tools are Debian packages; say which are missing before any work is done.
const missingTools = ['zstd', 'bsdiff', 'bspatch', 'xdelta3'].filter((tool) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return false;
  } catch {
    return true;
  }
});
if (missingTools.length > 0) {
  process.stderr.write(
    `bench:delta compares against ${missingTools.join(', ')}, which are not installed: apt-get install -y zstd bsdiff xdelta3\n`,
  );
  process.exit(2);
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-delta-'));
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'ignore'] });

function timed<T>(action: () => T): [T, number] {
  const start = performance.now();
  const result = action();
  return [result, performance.now() - start];
}

function measureTool(tool: Tool, oldBundle: Uint8Array, newBundle: Uint8Array): Measure {
  const oldFile = path.join(work, 'old.bin');
  const newFile = path.join(work, 'new.bin');
  const patch = path.join(work, `patch.${tool}`);
  const out = path.join(work, 'out.bin');
  fs.writeFileSync(oldFile, oldBundle);
  fs.writeFileSync(newFile, newBundle);
  for (const f of [patch, out]) fs.rmSync(f, { force: true });
  let encodeMs: number;
  let applyMs: number;
  switch (tool) {
    case 'ours': {
      const [delta, e] = timed(() => encodeDelta(oldBundle, newBundle));
      const [rebuilt, a] = timed(() => applyDelta(oldBundle, delta.bytes));
      if (sha256Hex(rebuilt) !== sha256Hex(newBundle)) throw new Error('ours: round trip failed');
      return { bytes: delta.bytes.length, encodeMs: e, applyMs: a };
    }
    case 'brotli': {
      const params = { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_LGWIN]: 24 };
      const [packed, e] = timed(() => brotliCompressSync(newBundle, { params }));
      const [, a] = timed(() => brotliDecompressSync(packed));
      return { bytes: packed.length, encodeMs: e, applyMs: a };
    }
    case 'zstd':
      [, encodeMs] = timed(() =>
        run('zstd', ['-q', '-f', '-19', '--long=27', `--patch-from=${oldFile}`, newFile, '-o', patch]),
      );
      [, applyMs] = timed(() =>
        run('zstd', ['-q', '-f', '-d', '--long=27', `--patch-from=${oldFile}`, patch, '-o', out]),
      );
      break;
    case 'bsdiff':
      [, encodeMs] = timed(() => run('bsdiff', [oldFile, newFile, patch]));
      [, applyMs] = timed(() => run('bspatch', [oldFile, out, patch]));
      break;
    case 'xdelta3':
      [, encodeMs] = timed(() => run('xdelta3', ['-f', '-9', '-e', '-s', oldFile, newFile, patch]));
      [, applyMs] = timed(() => run('xdelta3', ['-f', '-d', '-s', oldFile, patch, out]));
      break;
  }
  const bytes = fs.statSync(patch).size;
  if (!fs.readFileSync(out).equals(Buffer.from(newBundle))) throw new Error(`${tool}: round trip failed`);
  return { bytes, encodeMs, applyMs };
}

interface Row {
  pair: string;
  kind: string;
  encoding: EncodingId;
  full: number;
  results: Record<Tool, Measure>;
  /** top-1 accuracy of the new artifact on the shifted test set (the data the successors were trained on) */
  accuracy?: number;
}

// Accuracy of the quantized successors (plain vs delta-friendly), stock TF.js on wasm as on devices.
// BENCH_DELTA_ACCURACY=0 skips it.
const withAccuracy = process.env['BENCH_DELTA_ACCURACY'] !== '0';
let accuracyOf: ((artifact: ModelArtifact) => Promise<number>) | undefined;
if (withAccuracy) {
  const tf = await createTrainingRuntime();
  const test = createDemoDatasets(shiftedDatasetSpec).test;
  accuracyOf = async (artifact) => {
    const model = await tf.loadLayersModel(tf.io.fromMemory(toTfjsArtifacts(artifact, { dtype: 'float32' })));
    const accuracy = await measureAccuracy(model, test, shiftedDatasetSpec.preprocessing);
    model.dispose();
    return accuracy;
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(fixtures, 'manifest.json'), 'utf8')) as {
  models: Record<string, ManifestModel>;
};
const models = Object.values(manifest.models);
const updates = models.filter((m) => m.parent !== null && manifest.models[m.parent] !== undefined);
const present = new Set(updates.map(kindOf));
const absent = EXPECTED_KINDS.map((k) => k.kind).filter((k) => !present.has(k));

const floats = new Map<string, ModelArtifact>();
const floatOf = (name: string) => {
  if (!floats.has(name)) floats.set(name, loadFloat(name));
  return floats.get(name)!;
};

const onlyEncodings = process.env['BENCH_DELTA_ENCODINGS']?.split(',');
const rows: Row[] = [];
const pairs: { name: string; kind: string; oldModel: string; newModel: string; fromFloat32?: boolean }[] = [
  ...updates.map((m) => ({ name: `${m.parent} -> ${m.name}`, kind: kindOf(m), oldModel: m.parent!, newModel: m.name })),
];
const base = models.find((m) => m.parent === null);
if (base !== undefined)
  pairs.push(
    {
      name: `${base.name} re-quantized`,
      kind: 'same float model re-quantized',
      oldModel: base.name,
      newModel: base.name,
    },
    // the line's release was the float model; the next release is the same model in another encoding
    {
      name: `${base.name} float32 -> quantized`,
      kind: 'same float model, float32 release re-encoded',
      oldModel: base.name,
      newModel: base.name,
      fromFloat32: true,
    },
  );

for (const pair of pairs) {
  const plain = new Map<EncodingId, ModelArtifact>();
  for (const encoding of ENCODINGS) {
    if (onlyEncodings !== undefined && !onlyEncodings.includes(encoding.id)) continue;
    const plainId = PLAIN_OF[encoding.id];
    if (pair.fromFloat32 === true && (encoding.id === 'float32' || plainId !== undefined)) continue;
    // the old release: the parent in the plain encoding (delta-friendly rows quantize the new model against it)
    const oldArtifact = pair.fromFloat32
      ? floatOf(pair.oldModel)
      : plainId === undefined
        ? encoding.make(floatOf(pair.oldModel), floatOf(pair.oldModel))
        : ENCODINGS.find((e) => e.id === plainId)!.make(floatOf(pair.oldModel), floatOf(pair.oldModel));
    const newArtifact = encoding.make(floatOf(pair.newModel), oldArtifact);
    plain.set(encoding.id, newArtifact);
    const oldBundle = encodeBundle(oldArtifact);
    const newBundle = encodeBundle(newArtifact);
    const results = {} as Record<Tool, Measure>;
    for (const tool of ['ours', ...ANCHORS] as Tool[]) results[tool] = measureTool(tool, oldBundle, newBundle);
    const row: Row = { pair: pair.name, kind: pair.kind, encoding: encoding.id, full: newBundle.length, results };
    if (accuracyOf !== undefined && pair.kind === 'full fine-tune') row.accuracy = await accuracyOf(newArtifact);
    rows.push(row);
    process.stderr.write(
      `${pair.kind} / ${encoding.id}: ours ${results.ours.bytes} B (${pct(results.ours.bytes, row.full)}), best anchor ${bestAnchor(row).bytes} B\n`,
    );
  }
}
fs.rmSync(work, { recursive: true, force: true });

function pct(part: number, whole: number): string {
  return `${((100 * part) / whole).toFixed(part / whole < 0.1 ? 2 : 1)} %`;
}
function bestOf(row: Row, tools: Tool[]): Measure & { tool: Tool } {
  return tools.map((tool) => ({ tool, ...row.results[tool] })).sort((a, b) => a.bytes - b.bytes)[0]!;
}
function bestAnchor(row: Row) {
  return bestOf(row, ANCHORS);
}

const lines: string[] = [];
lines.push('# Delta benchmark (`npm run bench:delta`)', '');
lines.push(
  `Fixtures: ${updates.map((m) => `${m.name} (${kindOf(m)})`).join(', ')}; the "re-quantized" pair is the base model quantized again. ` +
    (absent.length === 0
      ? 'Every expected update kind is present.'
      : `Absent from the manifest: ${absent.join(', ')}.`),
  '',
  'Sizes of the canonical bundle a device installs; % of the new full bundle. Anchors: `zstd -19 --long=27 --patch-from=old`, `bsdiff`, `xdelta3 -9 -e -s old`, brotli quality 11 of the new bundle. Ratio = best anchor bytes / ours (higher is better).',
  '',
);
lines.push('## Summary', '');
lines.push(
  '| update | encoding | full bytes | ours | zstd | bsdiff | xdelta3 | brotli | best anchor / ours | accuracy (shifted test) |',
);
lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const cells = (['ours', ...ANCHORS] as Tool[]).map((tool) => pct(row.results[tool].bytes, row.full));
  lines.push(
    `| ${row.kind} | ${row.encoding} | ${row.full} | ${cells.join(' | ')} | ${(bestAnchor(row).bytes / row.results.ours.bytes).toFixed(2)}x | ${row.accuracy === undefined ? '' : `${(100 * row.accuracy).toFixed(1)} %`} |`,
  );
}
lines.push('', '## Every tool', '');
lines.push('| update | encoding | tool | bytes | % of full | encode ms | apply ms | ours / best anchor |');
lines.push('|---|---|---|---:|---:|---:|---:|---:|');
for (const row of rows)
  for (const tool of ['ours', ...ANCHORS] as Tool[]) {
    const m = row.results[tool];
    const ratio = tool === 'ours' ? (m.bytes / bestAnchor(row).bytes).toFixed(3) : '';
    lines.push(
      `| ${row.kind} | ${row.encoding} | ${tool} | ${m.bytes} | ${pct(m.bytes, row.full)} | ${m.encodeMs.toFixed(0)} | ${m.applyMs.toFixed(0)} | ${ratio} |`,
    );
  }

// Acceptance (issue 6)
const checks: { what: string; ok: boolean; detail: string }[] = [];
for (const row of rows) {
  const ours = row.results.ours.bytes;
  if (row.kind === 'head-only retrain') {
    const best = bestAnchor(row);
    checks.push({
      what: `head-only retrain, ${row.encoding}: ours <= best anchor`,
      ok: ours <= best.bytes,
      detail: `${ours} vs ${best.tool} ${best.bytes}`,
    });
  }
  if (row.kind === 'full fine-tune' && (row.encoding === 'uint8' || row.encoding === 'int8')) {
    const best = bestOf(row, ['zstd', 'bsdiff', 'xdelta3']);
    checks.push({
      what: `full fine-tune, ${row.encoding}: ours <= best of zstd/bsdiff/xdelta3 / 2 and <= 40 % of full`,
      ok: ours * 2 <= best.bytes && ours <= 0.4 * row.full,
      detail: `${ours} (${pct(ours, row.full)}) vs ${best.tool} ${best.bytes}: ${(best.bytes / ours).toFixed(2)}x`,
    });
  }
  if (row.kind === 'full fine-tune' && row.encoding === 'float32') {
    const best = bestAnchor(row);
    checks.push({
      what: 'full fine-tune, float32: best anchor / ours >= 1.2',
      ok: best.bytes >= 1.2 * ours,
      detail: `${ours} vs ${best.tool} ${best.bytes}: ${(best.bytes / ours).toFixed(2)}x`,
    });
  }
  if (row.kind === 'full fine-tune' && row.encoding.endsWith('+ reuse')) {
    checks.push({
      what: `full fine-tune, ${row.encoding}: ours <= 25 % of the full file`,
      ok: ours <= 0.25 * row.full,
      detail: `${ours} = ${pct(ours, row.full)}`,
    });
  }
}
lines.push('', '## Acceptance (issue 6)', '');
for (const c of checks) lines.push(`- ${c.ok ? 'PASS' : 'FAIL'} ${c.what}: ${c.detail}`);
if (absent.length > 0) lines.push(`- not measurable (fixtures absent): ${absent.join(', ')}`);

const markdown = `${lines.join('\n')}\n`;
const resultsDir = path.join(repoRoot, 'bench-results');
fs.mkdirSync(resultsDir, { recursive: true });
fs.writeFileSync(path.join(resultsDir, 'delta.md'), markdown);
console.log(markdown);
