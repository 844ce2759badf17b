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

/**
 * The committed demo model, read through model-format as an upload would be, and its train, test
 * and calibration sets regenerated from the datasets generator exactly as the fixture manifest says.
 */
export function loadDemo(): DemoInputs {
  const manifest = readDemoManifest();
  const record = manifest.models[DEMO_MODEL];
  const { train, test, calibration } = createDemoDatasets(manifest.dataset);
  const notes: string[] = [];
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
