/**
 * The smoke test a release passes before `current` points at it: the installed files are read back from disk
 * and decoded by model-format (the device decoding path, our own encodings included), loaded into TF.js on
 * wasm, and run on a sample input of the line's size; the output must be finite and shaped
 * [1, classNames.length]. Latency is the median of a few timed runs after one warm-up.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Preprocessing } from '@modelfleet/contracts';
import { MODEL_JSON, readArtifact, toTfjsArtifacts, type ModelArtifact } from '@modelfleet/model-format';
import { SmokeTestFailed } from './errors.js';
import { deviceRuntime } from './runtime.js';

export interface SmokeResult {
  latencyMs: number;
  outputShape: number[];
}

export const SMOKE_TIMED_RUNS = 3;

/** Reads model.json and the shards it names from a folder, as the file map readArtifact takes. */
export async function readModelFolder(folder: string): Promise<Map<string, Uint8Array>> {
  const modelJson = await fs.readFile(path.join(folder, MODEL_JSON));
  const files = new Map<string, Uint8Array>([[MODEL_JSON, new Uint8Array(modelJson)]]);
  const parsed = JSON.parse(modelJson.toString('utf8')) as { weightsManifest?: { paths?: string[] }[] };
  for (const group of parsed.weightsManifest ?? [])
    for (const shard of group.paths ?? [])
      files.set(shard, new Uint8Array(await fs.readFile(path.join(folder, shard))));
  return files;
}

/** Checks a model's output: shape [1, classes] and every value finite. Throws MF_ERR_SMOKE_TEST_FAILED. */
export function checkSmokeOutput(shape: readonly number[], values: ArrayLike<number>, classes: number): void {
  if (shape.length !== 2 || shape[0] !== 1 || shape[1] !== classes)
    throw new SmokeTestFailed(`output shape [${shape.join(', ')}], the line expects [1, ${classes}]`, {
      details: { shape },
    });
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]))
      throw new SmokeTestFailed(`output ${i} is ${values[i]}`, { details: { index: i } });
}

/** A deterministic sample frame: a gradient over [0, 255], preprocessed as the line says. */
function sampleInput(height: number, width: number, channels: number, preprocessing: Preprocessing): Float32Array {
  const values = new Float32Array(height * width * channels);
  for (let i = 0; i < values.length; i++) values[i] = ((i * 37) % 256) * preprocessing.scale + preprocessing.offset;
  return values;
}

export async function smokeTest(artifact: ModelArtifact, preprocessing: Preprocessing): Promise<SmokeResult> {
  const { tf } = await deviceRuntime();
  let model: Awaited<ReturnType<typeof tf.loadLayersModel>> | undefined;
  try {
    try {
      model = await tf.loadLayersModel(tf.io.fromMemory(toTfjsArtifacts(artifact, { dtype: 'float32' }) as never));
    } catch (error) {
      throw new SmokeTestFailed(`model does not load: ${(error as Error).message}`, { cause: error });
    }
    const inputShape = model.inputs[0]?.shape ?? [];
    const [height, width] = preprocessing.inputSize;
    if (inputShape.length !== 4 || inputShape[1] !== height || inputShape[2] !== width)
      throw new SmokeTestFailed(`model input [${inputShape.join(', ')}] does not take ${height}x${width} frames`);
    const channels = inputShape[3] ?? 3;
    const input = tf.tensor4d(sampleInput(height, width, channels, preprocessing), [1, height, width, channels]);
    const timings: number[] = [];
    try {
      for (let run = 0; run <= SMOKE_TIMED_RUNS; run++) {
        const started = performance.now();
        const output = model.predict(input);
        const tensor = Array.isArray(output) ? output[0] : output;
        if (tensor === undefined) throw new SmokeTestFailed('model produced no output');
        const values = await tensor.data();
        const elapsed = performance.now() - started;
        const shape = tensor.shape as number[];
        tf.dispose(output);
        checkSmokeOutput(shape, values as Float32Array, preprocessing.classNames.length);
        if (run > 0) timings.push(elapsed);
      }
    } finally {
      input.dispose();
    }
    timings.sort((a, b) => a - b);
    return {
      latencyMs: timings[Math.floor(timings.length / 2)] ?? 0,
      outputShape: [1, preprocessing.classNames.length],
    };
  } finally {
    model?.dispose();
  }
}

/** The smoke test of an installed folder: decode what is on disk, not what is in memory. */
export async function smokeTestFolder(folder: string, preprocessing: Preprocessing): Promise<SmokeResult> {
  let artifact: ModelArtifact;
  try {
    artifact = readArtifact(await readModelFolder(folder));
  } catch (error) {
    throw new SmokeTestFailed(`installed files do not decode: ${(error as Error).message}`, { cause: error });
  }
  return smokeTest(artifact, preprocessing);
}
