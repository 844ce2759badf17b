import type * as tfTypes from '@tensorflow/tfjs';
import type { ValueRange } from './affine-int8.js';
import { type LabelledImages, type Preprocessing, imageBatch, imageCount } from './batches.js';
import { EvalDatasetMismatch, EvalInvalidArgument } from './errors.js';
import { layerGraph, runLayerByLayer } from './layer-graph.js';

/** The seam with @modelfleet/quantize: calibrated ranges of the input and of every layer's output. */
export interface ActivationRanges {
  method: 'minmax' | 'percentile';
  percentile?: number;
  input: ValueRange;
  layers: Record<string, ValueRange>;
}

export interface CalibrationOptions {
  preprocessing: Preprocessing;
  /** 'minmax' (default): the extremes seen; 'percentile': clip the tails beyond `percentile`. */
  method?: 'minmax' | 'percentile';
  /** For 'percentile': max = this percentile of the values, min = the (100 - p)th (default 99.99). */
  percentile?: number;
  /** Images per forward pass (default 32). */
  batchSize?: number;
  /** Use at most this many images of the dataset (default all). */
  maxImages?: number;
}

/** Histogram resolution of the percentile method: the result is exact to (max - min) / 4096. */
const HISTOGRAM_BINS = 4096;

interface Tally {
  min: number;
  max: number;
  histogram?: Float64Array;
}

/**
 * Runs the float model over the calibration images layer by layer and records the range of the
 * input and of every layer's output. The percentile method makes a second pass that fills a
 * histogram per layer over the first pass's [min, max], then reads the two tails off it, so memory
 * stays at one histogram per layer instead of every activation of every image.
 */
export async function calibrateModel(
  tf: typeof tfTypes,
  model: tfTypes.LayersModel,
  dataset: LabelledImages,
  options: CalibrationOptions,
): Promise<ActivationRanges> {
  const method = options.method ?? 'minmax';
  const percentile = options.percentile ?? 99.99;
  const batchSize = options.batchSize ?? 32;
  if (method === 'percentile' && !(percentile > 50 && percentile <= 100))
    throw new EvalInvalidArgument(`percentile ${percentile}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new EvalInvalidArgument(`batchSize ${batchSize}`);
  const total = Math.min(imageCount(dataset), options.maxImages ?? Number.POSITIVE_INFINITY);
  if (total < 1) throw new EvalDatasetMismatch('no calibration images');
  const graph = layerGraph(model);
  const tallies = new Map<string, Tally>();

  const pass = (visit: (name: string, values: Float32Array) => void): void => {
    for (let start = 0; start < total; start += batchSize) {
      const count = Math.min(batchSize, total - start);
      tf.tidy(() => {
        runLayerByLayer(graph, imageBatch(tf, dataset, options.preprocessing, start, count), (name, output) => {
          visit(name, output.dataSync() as Float32Array);
          return output;
        });
      });
    }
  };

  pass((name, values) => {
    let tally = tallies.get(name);
    if (tally === undefined)
      tallies.set(name, (tally = { min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY }));
    let { min, max } = tally;
    for (const value of values) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    tally.min = min;
    tally.max = max;
  });

  if (method === 'percentile') {
    for (const tally of tallies.values()) tally.histogram = new Float64Array(HISTOGRAM_BINS);
    pass((name, values) => {
      const tally = tallies.get(name)!;
      const histogram = tally.histogram!;
      const width = tally.max - tally.min;
      if (width === 0) {
        histogram[0] = histogram[0]! + values.length;
        return;
      }
      const perUnit = HISTOGRAM_BINS / width;
      for (const value of values) {
        const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor((value - tally.min) * perUnit));
        histogram[bin] = histogram[bin]! + 1;
      }
    });
  }

  const rangeOf = (name: string): ValueRange => {
    const tally = tallies.get(name);
    if (tally === undefined) throw new EvalInvalidArgument(`layer ${name} produced no output`);
    if (!Number.isFinite(tally.min) || !Number.isFinite(tally.max)) {
      throw new EvalInvalidArgument(`layer ${name} produced non-finite activations`);
    }
    return tally.histogram === undefined ? { min: tally.min, max: tally.max } : percentileRange(tally, percentile);
  };
  const layers: Record<string, ValueRange> = {};
  for (const step of graph.steps) layers[step.name] = rangeOf(step.name);
  return {
    method,
    ...(method === 'percentile' ? { percentile } : {}),
    input: rangeOf(graph.inputName),
    layers,
  };
}

/** The [100-p, p] percentile range read off a histogram: lower edge of the low bin, upper edge of the high bin. */
function percentileRange(tally: Tally, percentile: number): ValueRange {
  const histogram = tally.histogram!;
  const width = (tally.max - tally.min) / HISTOGRAM_BINS;
  if (width === 0) return { min: tally.min, max: tally.max };
  const count = histogram.reduce((sum, value) => sum + value, 0);
  const tail = count * (1 - percentile / 100);
  let low = 0;
  for (let seen = 0; low < HISTOGRAM_BINS; low++) {
    seen += histogram[low]!;
    if (seen > tail) break;
  }
  let high = HISTOGRAM_BINS - 1;
  for (let seen = 0; high >= 0; high--) {
    seen += histogram[high]!;
    if (seen > tail) break;
  }
  return {
    min: Math.max(tally.min, tally.min + low * width),
    max: Math.min(tally.max, tally.min + (high + 1) * width),
  };
}
