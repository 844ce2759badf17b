import type { Dataset } from '../dataset.js';
import { DatasetInvalidArgument } from '../errors.js';
import { createPrng, mixSeed } from '../prng.js';
import { SYNTHETIC_CLASS_NAMES } from './objects.js';
import { createCanvas, toBytes } from './raster.js';
import { DEFAULT_SCENE_CONDITIONS, renderScene, type SceneConditions } from './scene.js';

export interface SyntheticOptions {
  seed: number;
  count: number;
  /** Square image side in pixels. */
  size: number;
  /** Shifts the data distribution (lighting, noise, clutter); defaults to DEFAULT_SCENE_CONDITIONS. */
  conditions?: Partial<SceneConditions>;
}

/**
 * The study's task, drawn procedurally: `count` images of one bottle, can or carton on a belt,
 * classes in turn (image i has label i mod 5, so classes are balanced). Image i is rendered from
 * its own stream `mixSeed(seed, i)`, so the same seed gives identical bytes, and a prefix of a
 * larger set equals the smaller set.
 */
export function generateSynthetic(options: SyntheticOptions): Dataset {
  const { seed, count, size } = options;
  if (!Number.isInteger(seed)) throw new DatasetInvalidArgument(`seed ${seed}`);
  if (!Number.isInteger(count) || count < 0 || count > 1_000_000) throw new DatasetInvalidArgument(`count ${count}`);
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new DatasetInvalidArgument(`size ${size}`);
  const conditions: SceneConditions = { ...DEFAULT_SCENE_CONDITIONS, ...options.conditions };
  const classNames = [...SYNTHETIC_CLASS_NAMES];
  const imageSize = size * size * 3;
  const images = new Uint8Array(count * imageSize);
  const labels = new Uint8Array(count);
  const canvas = createCanvas(size, size);
  for (let i = 0; i < count; i++) {
    const label = i % classNames.length;
    canvas.pixels.fill(0);
    renderScene(canvas, classNames[label]!, createPrng(mixSeed(seed, i)), conditions);
    toBytes(canvas, images, i * imageSize);
    labels[i] = label;
  }
  return { classNames, height: size, width: size, channels: 3, images, labels };
}
