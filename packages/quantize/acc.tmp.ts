import { candidateSet } from './src/index.js';
import { createRuntime, evaluateCandidates } from '../evaluate/src/index.js';
import { loadDemo } from '../evaluate/bench/demo-source.js';
const runtime = await createRuntime();
const demo = loadDemo();
const t = performance.now();
const evaluation = await evaluateCandidates(demo.artifact, {
  test: demo.test, calibration: demo.calibration, preprocessing: demo.preprocessing,
  variants: candidateSet, latencyRuns: 5, warmupRuns: 1,
});
for (const row of (evaluation as any).rows ?? (evaluation as any).candidates) console.log(row.variant.padEnd(18), (row.accuracy * 100).toFixed(2), row.simulated ? 'sim' : '   ', row.fileBytes, row.encoding);
console.log('s', ((performance.now() - t) / 1000).toFixed(1));
void runtime;
