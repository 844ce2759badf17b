import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dataset, Preprocessing } from '@modelfleet/datasets';
import { createDemoDatasets, loadDemoModelFiles, readDemoManifest } from '@modelfleet/demo-models';
import { type ModelArtifact, readArtifact } from '@modelfleet/model-format';

export interface DemoInputs {
  name: string;
  artifact: ModelArtifact;
  train: Dataset;
  test: Dataset;
  calibration: Dataset;
  preprocessing: Preprocessing;
  notes: string[];
}

export const DEMO_MODEL = 'mobilenet-v1-025-64';

/** model.json and the shards its weightsManifest lists, from a folder (a TF.js model saved to disk). */
function filesOfModelDir(dir: string): Map<string, Uint8Array> {
  const modelJson = new Uint8Array(readFileSync(path.join(dir, 'model.json')));
  const parsed = JSON.parse(new TextDecoder().decode(modelJson)) as { weightsManifest?: { paths?: string[] }[] };
  const files = new Map<string, Uint8Array>([['model.json', modelJson]]);
  for (const shard of (parsed.weightsManifest ?? []).flatMap((group) => group.paths ?? [])) {
    files.set(shard, new Uint8Array(readFileSync(path.join(dir, shard))));
  }
  return files;
}

/**
 * The committed demo model, read through model-format as an upload would be, and its train, test
 * and calibration sets regenerated from the datasets generator exactly as the fixture manifest says.
 */
export function loadDemo(options: { modelDir?: string } = {}): DemoInputs {
  const manifest = readDemoManifest();
  const record = manifest.models[DEMO_MODEL];
  const { train, test, calibration } = createDemoDatasets(manifest.dataset);
  const notes: string[] = [];
  if (options.modelDir !== undefined) {
    notes.push(
      `model read from ${options.modelDir} instead of the committed fixture; data regenerated from the fixture manifest.`,
    );
    return {
      name: `${DEMO_MODEL} (${path.basename(path.resolve(options.modelDir))})`,
      artifact: readArtifact(filesOfModelDir(options.modelDir)),
      train,
      test,
      calibration,
      preprocessing: manifest.preprocessing,
      notes,
    };
  }
  if (record !== undefined) {
    notes.push(
      `the fixture manifest records test ${(record.accuracy.test * 100).toFixed(2)} % / train ${(record.accuracy.train * 100).toFixed(2)} % after training.`,
    );
  }
  return {
    name: DEMO_MODEL,
    artifact: readArtifact(loadDemoModelFiles(DEMO_MODEL)),
    train,
    test,
    calibration,
    preprocessing: manifest.preprocessing,
    notes,
  };
}
