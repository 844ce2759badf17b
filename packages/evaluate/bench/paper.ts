/**
 * npm run bench:paper — the study's table reproduced on the demo model, beside the published one,
 * then a latency/size run at the study's scale (MobileNet-v1 alpha 1.0, 224x224).
 * Prints markdown and writes it to bench-results/paper.md at the repository root.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { listLayers } from '@modelfleet/model-format';
import { candidateSet } from '@modelfleet/quantize';
import { type CandidateEvaluation, createRuntime, evaluateCandidates, objectiveL } from '../src/index.js';
import { loadDemo } from './demo-source.js';
import { fixed, markdownTable, signed } from './markdown.js';
import { runStudyScale } from './study-scale.js';
import { STUDY_CHOICE, STUDY_TABLE } from './study-table.js';

const { values: args } = parseArgs({
  options: {
    'latency-runs': { type: 'string', default: '200' },
    'warmup-runs': { type: 'string', default: '10' },
    'scale-runs': { type: 'string', default: '20' },
    'skip-scale': { type: 'boolean', default: false },
    /** Bench a model saved in this folder (model.json + shards) instead of the committed fixture. */
    'model-dir': { type: 'string' },
  },
});
const latencyRuns = Number(args['latency-runs']);
const warmupRuns = Number(args['warmup-runs']);

const output: string[] = [];
/** The bench's own output channel: a CLI script, so it writes to the terminal directly. */
const print = (text = ''): void => {
  output.push(text);
  process.stdout.write(`${text}\n`);
};
const progress = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
const pct = (fraction: number | undefined): string => (fraction === undefined ? '—' : (fraction * 100).toFixed(2));

const started = performance.now();
const runtime = await createRuntime();
const demo = loadDemo(args['model-dir'] !== undefined ? { modelDir: args['model-dir'] } : {});
progress(`demo inputs ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);

print('# bench:paper');
print();
print(
  `Runtime: TF.js ${runtime.tf.version.tfjs}, wasm backend (SIMD: ${runtime.simd ? 'yes' : 'no'}, threads: ${runtime.threads ? 'yes' : 'no — tfjs-backend-wasm disables them under Node'}), ` +
    `Node ${process.version}, ${os.cpus().length} cores shared with the rest of the team's work; ${new Date().toISOString()}.`,
);
print();
print(`## 1. Demo model \`${demo.name}\``);
print();
print(
  `Test ${demo.test.labels.length} images, train ${demo.train.labels.length}, calibration ${demo.calibration.labels.length} (min/max); ` +
    `latency: ${warmupRuns} warm-up then ${latencyRuns} single-image runs per candidate, all candidates timed round-robin; ` +
    `ms/img = CPU time per image (process.cpuUsage; T in L), wall = elapsed time, both measured on the same runs ` +
    `(CPU time because this 2-core machine is shared: load average ${os.loadavg()[0]!.toFixed(1)} at start). ` +
    `File = canonical bundle bytes (model.json + weights, what a device installs); wire = brotli (quality 11) of it.`,
);
for (const note of demo.notes) print(`Note: ${note}`);
print();

const candidatesStarted = performance.now();
const evaluation: CandidateEvaluation = await evaluateCandidates(demo.artifact, {
  test: demo.test,
  train: demo.train,
  calibration: demo.calibration,
  preprocessing: demo.preprocessing,
  variants: candidateSet,
  latencyRuns,
  warmupRuns,
  onProgress: (event) =>
    progress(
      `  [${((performance.now() - candidatesStarted) / 1000).toFixed(1)} s] ${event.stage} ${event.variant ?? ''} ${event.completed}/${event.total}`,
    ),
});
const candidateSeconds = (performance.now() - candidatesStarted) / 1000;
const { rows, decision } = evaluation;
const row = (variant: string) => rows.find((entry) => entry.variant === variant);
const theta0 = row('theta0')!;

print(
  markdownTable(
    [
      'variant',
      'encoding',
      'test acc %',
      'train acc %',
      'ms/img median',
      'p90',
      'wall median',
      'wall p90',
      'file KB',
      'wire KB',
      'L',
      'chosen',
    ],
    rows.map((entry) => [
      entry.variant,
      entry.encoding,
      pct(entry.accuracy) + (entry.simulated ? ' (sim)' : ''),
      pct(entry.trainAccuracy) + (entry.simulated ? ' (sim)' : ''),
      entry.latency.medianMs.toFixed(2),
      entry.latency.p90Ms.toFixed(2),
      entry.latency.wall.medianMs.toFixed(2),
      entry.latency.wall.p90Ms.toFixed(2),
      kb(entry.fileBytes),
      kb(entry.wireBytes),
      entry.L.toFixed(3),
      entry.variant === decision.chosen ? '**yes**' : entry.eligible ? '' : 'excluded',
    ]),
  ),
);
print();
print(
  `(sim) = accuracy of simulated integer inference (int8 activations with the calibrated ranges, per-channel int8 weights); the latency of those rows is what TF.js measured running the artifact.`,
);
print();
const batchNormLayers = (variant: string): number =>
  listLayers(evaluation.artifacts.get(variant)!.artifact.modelJson.modelTopology).filter(
    (layer) => layer.className === 'BatchNormalization',
  ).length;
const folded = rows
  .filter((entry) => batchNormLayers(entry.variant) < batchNormLayers('theta0'))
  .map((entry) => entry.variant);
if (folded.length > 0) {
  print(
    `Batch norm folded into the convolutions (as the TFLite converter does) in: ${folded.join(', ')} — ` +
      `${batchNormLayers('theta0')} BatchNormalization layers fewer to run, which is why those rows are faster than theta0 on TF.js ` +
      `(every candidate is decoded to float32 weights, so the weight encoding itself does not change the compute).`,
  );
  print();
}
print(`Decision: **${decision.chosen}** (rule: ${decision.rule}). ${decision.reason}.`);
print();
print(`All ${rows.length} candidates evaluated in ${candidateSeconds.toFixed(1)} s.`);
print();

print("## 2. The study's published table beside ours");
print();
print('Published (PAPER.md), with L recomputed from its own inputs:');
print();
const study0 = STUDY_TABLE[0]!;
const studyInputs = (entry: (typeof STUDY_TABLE)[number]) => ({
  fileBytes: entry.fileKB,
  latencyMs: entry.msPerImage,
  accuracy: entry.testAccuracy,
});
print(
  markdownTable(
    ['variant', 'test acc %', 'train acc %', 'ms/image', 'file KB', 'L printed', 'L recomputed', 'chosen'],
    STUDY_TABLE.map((entry) => [
      `${entry.variant} ${entry.label}`,
      entry.testAccuracy.toFixed(2),
      entry.trainAccuracy.toFixed(2),
      String(entry.msPerImage),
      String(entry.fileKB),
      entry.printedL.toFixed(2),
      objectiveL(studyInputs(entry), studyInputs(study0)).toFixed(2),
      entry.variant === STUDY_CHOICE ? '**yes**' : '',
    ]),
  ),
);
print();
print('Ratios per row, study vs ours (file/original, latency/original, test accuracy change in points):');
print();
print(
  markdownTable(
    [
      'variant',
      'file/orig study',
      'file/orig ours',
      'latency/orig study',
      'latency/orig ours',
      'acc change study',
      'acc change ours',
      'L study',
      'L ours',
    ],
    rows.map((entry) => {
      const study = STUDY_TABLE.find((candidate) => candidate.variant === entry.variant);
      const studyL = study ? objectiveL(studyInputs(study), studyInputs(study0)) : undefined;
      return [
        entry.variant,
        study ? (study.fileKB / study0.fileKB).toFixed(3) : '—',
        (entry.fileBytes / theta0.fileBytes).toFixed(3),
        study ? (study.msPerImage / study0.msPerImage).toFixed(3) : '—',
        (entry.latency.medianMs / theta0.latency.medianMs).toFixed(3),
        study ? signed(study.testAccuracy - study0.testAccuracy, 2) : '—',
        signed((entry.accuracy - theta0.accuracy) * 100, 2),
        fixed(studyL, 2),
        entry.L.toFixed(2),
      ];
    }),
  ),
);
print();

const scale = args['skip-scale']
  ? undefined
  : await runStudyScale(runtime, { runs: Number(args['scale-runs']), progress });
if (scale !== undefined) {
  print('## 3. Study scale: MobileNet-v1 alpha 1.0, 224x224, 1000 classes');
  print();
  print(scale.notes.join(' '));
  print();
  print(
    markdownTable(
      [
        'variant',
        'encoding',
        'file KB',
        'file/orig',
        'ms/img median',
        'p90',
        'wall median',
        'wall p90',
        'latency/orig',
      ],
      scale.rows.map((entry) => [
        entry.variant,
        entry.encoding,
        kb(entry.fileBytes),
        (entry.fileBytes / scale.rows[0]!.fileBytes).toFixed(3),
        entry.latency.medianMs.toFixed(1),
        entry.latency.p90Ms.toFixed(1),
        entry.latency.wall.medianMs.toFixed(1),
        entry.latency.wall.p90Ms.toFixed(1),
        (entry.latency.medianMs / scale.rows[0]!.latency.medianMs).toFixed(3),
      ]),
    ),
  );
  print();
}

print('## 4. Acceptance figures (issue 3)');
print();
const perChannel = row('int8-per-channel');
const theta2 = row('theta2');
const chosen = row(decision.chosen)!;
const checks: [string, boolean][] = [];
if (perChannel) {
  const drop = (theta0.accuracy - perChannel.accuracy) * 100;
  checks.push([`int8-per-channel test accuracy change ${signed(-drop, 2)} points (needs drop <= 0.5)`, drop <= 0.5]);
  const ratio = perChannel.fileBytes / theta0.fileBytes;
  checks.push([`int8-per-channel file ${(ratio * 100).toFixed(1)} % of float32 (needs <= 27 %)`, ratio <= 0.27]);
}
checks.push([`selected ${decision.chosen}: L = ${chosen.L.toFixed(3)} (needs <= -0.70)`, chosen.L <= -0.7]);
if (theta2) {
  const gap = Math.abs(theta0.accuracy - theta2.accuracy) * 100;
  checks.push([
    `theta2 simulated test accuracy ${pct(theta2.accuracy)} vs float32 ${pct(theta0.accuracy)}: ${gap.toFixed(2)} points apart (needs <= 1)`,
    gap <= 1,
  ]);
}
checks.push([`all demo candidates in ${candidateSeconds.toFixed(1)} s (needs < 180 s)`, candidateSeconds < 180]);
for (const [text, ok] of checks) print(`- ${ok ? 'PASS' : 'FAIL'}: ${text}`);
const chance = 1 / demo.test.classNames.length;
if (theta0.accuracy <= chance + 0.05) {
  print(
    `- WARNING: float32 test accuracy ${pct(theta0.accuracy)} % is at chance level (${pct(chance)} %): the model is untrained, ` +
      `so the accuracy checks above say nothing about quantization.`,
  );
}
print();
print(`Bench wall time ${((performance.now() - started) / 1000).toFixed(1)} s.`);

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const resultsDir = path.join(repoRoot, 'bench-results');
mkdirSync(resultsDir, { recursive: true });
writeFileSync(path.join(resultsDir, 'paper.md'), `${output.join('\n')}\n`);
progress(`wrote ${path.join(resultsDir, 'paper.md')}`);
