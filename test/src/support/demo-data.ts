import fs from 'node:fs/promises';
import path from 'node:path';
import { encodeDataset } from '@modelfleet/datasets';
import { createDemoDatasets, demoDatasetSpec, demoModelDir, readDemoManifest } from '@modelfleet/demo-models';

export interface DemoFiles {
  testSet: string;
  calibrationSet: string;
  modelDir: string;
  classNames: string[];
  inputSize: [number, number];
  scale: number;
  offset: number;
}

/** The demo model's test and calibration sets, regenerated from their seeds into files the CLI uploads. */
export async function writeDemoFiles(dir: string): Promise<DemoFiles> {
  const manifest = readDemoManifest();
  const datasets = await createDemoDatasets(demoDatasetSpec);
  const testSet = path.join(dir, 'test.mfds');
  const calibrationSet = path.join(dir, 'calibration.mfds');
  await fs.writeFile(testSet, encodeDataset(datasets.test));
  await fs.writeFile(calibrationSet, encodeDataset(datasets.calibration));
  const [height, width] = manifest.inputShape;
  return {
    testSet,
    calibrationSet,
    modelDir: demoModelDir('mobilenet-v1-025-64'),
    classNames: manifest.classNames,
    inputSize: [height, width],
    scale: manifest.preprocessing.scale,
    offset: manifest.preprocessing.offset,
  };
}

/** `modelfleet models create` arguments for a demo line with one cheap variant (theta4) and few latency runs. */
export function demoLineArgs(line: string, demo: DemoFiles, ...extra: string[]): string[] {
  return [
    ...demoLineCreateArgs(line, demo),
    '--variants',
    'theta4',
    // Five timed runs on a shared machine are noise: with latency in L, float32 sometimes beat float16 and the
    // next release changed encoding (no delta then). The winner here is decided by size and accuracy alone.
    '--weights',
    'size=1,latency=0,accuracy=1',
    '--latency-runs',
    '5',
    ...extra,
  ];
}

/** `modelfleet models create` for the demo line with the default policy (every variant, the study's L). */
export function demoLineCreateArgs(line: string, demo: DemoFiles): string[] {
  return [
    'models',
    'create',
    line,
    '--classes',
    demo.classNames.join(','),
    '--input-size',
    `${demo.inputSize[0]}x${demo.inputSize[1]}`,
    '--scale',
    String(demo.scale),
    '--offset',
    String(demo.offset),
  ];
}
