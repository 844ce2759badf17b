import { generateSynthetic } from '@modelfleet/datasets';
import { expectedWeights, listLayers } from '@modelfleet/model-format';
import { candidateSet } from '@modelfleet/quantize';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateActivations, loadArtifactModel } from './artifact-model.js';
import { evaluateCandidates } from './evaluate-candidates.js';
import { layerGraph, runLayerByLayer } from './layer-graph.js';
import { artifactFromModel } from './model-artifact.js';
import { type EvalRuntime, createRuntime } from './runtime.js';
import { simulateIntegerInference } from './simulate.js';
import {
  SEQUENTIAL_LAYERS,
  buildNestedNet,
  buildSequentialNet,
  labelWithSequentialPredictions,
} from './sequential-model.fixture.js';
import { TINY_PREPROCESSING } from './tiny-model.fixture.js';

const SIZE = 16;
const CLASSES = 5; // generateSynthetic's class count

let runtime: EvalRuntime;
beforeAll(async () => {
  runtime = await createRuntime();
});

describe('a tf.sequential() model', () => {
  it('is saved as a Sequential topology without inbound_nodes, which model-format lists with its weights', async () => {
    const artifact = await artifactFromModel(runtime.tf, buildSequentialNet(runtime.tf, SIZE, CLASSES));
    const topology = artifact.modelJson.modelTopology as { class_name: string; config: { layers: object[] } };
    expect(topology.class_name).toBe('Sequential');
    expect(topology.config.layers.some((layer) => 'inbound_nodes' in layer)).toBe(false);
    const layers = listLayers(artifact.modelJson.modelTopology);
    expect(layers.map((layer) => layer.name)).toEqual([...SEQUENTIAL_LAYERS]);
    const expected = layers.flatMap((layer) => expectedWeights(layer).map((weight) => `${layer.name}/${weight.param}`));
    expect(expected.sort()).toEqual(artifact.tensors.map((tensor) => tensor.name).sort());
  });

  it('has a layer graph: its layers in order, reading the inner input layer, ending at the last layer', async () => {
    const { tf } = runtime;
    const artifact = await artifactFromModel(tf, buildSequentialNet(tf, SIZE, CLASSES));
    const model = await loadArtifactModel(runtime, artifact);
    try {
      const graph = layerGraph(model);
      expect(graph.steps.map((step) => step.name)).toEqual([...SEQUENTIAL_LAYERS]);
      expect(graph.outputName).toBe('predictions');
      // The first layer reads the InputLayer tfjs creates inside the Sequential model.
      expect(graph.steps[0]!.inputs).toEqual([graph.inputName]);
      expect(SEQUENTIAL_LAYERS as readonly string[]).not.toContain(graph.inputName);
      for (let i = 1; i < graph.steps.length; i++) expect(graph.steps[i]!.inputs).toEqual([SEQUENTIAL_LAYERS[i - 1]]);
      expect(graph.consumers.get(graph.inputName)).toEqual(['conv']);
      expect(graph.consumers.get('pool')).toEqual(['predictions']);
      expect(graph.consumers.has('predictions')).toBe(false);

      // Layer by layer gives what the model itself predicts.
      const [byLayer, predicted] = tf.tidy(() => {
        const x = tf.randomUniform([3, SIZE, SIZE, 3], -1, 1, 'float32', 7);
        return [runLayerByLayer(graph, x).arraySync(), (model.predict(x) as typeof x).arraySync()];
      }) as [number[][], number[][]];
      byLayer.flat().forEach((value, i) => expect(value).toBeCloseTo(predicted.flat()[i]!, 5));
    } finally {
      model.dispose();
    }
  });

  it('with an explicit InputLayer has a layer graph reading that layer', async () => {
    const { tf } = runtime;
    const sequential = tf.sequential();
    sequential.add(tf.layers.inputLayer({ inputShape: [8, 8, 3], name: 'image' }));
    sequential.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, useBias: false, name: 'conv' }));
    sequential.add(tf.layers.batchNormalization({ name: 'bn' }));
    sequential.add(tf.layers.flatten({ name: 'flat' }));
    sequential.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }));
    const artifact = await artifactFromModel(tf, sequential);
    expect(listLayers(artifact.modelJson.modelTopology).map((layer) => layer.name)).toEqual([
      'image',
      'conv',
      'bn',
      'flat',
      'out',
    ]);
    const model = await loadArtifactModel(runtime, artifact);
    try {
      const graph = layerGraph(model);
      expect(graph.inputName).toBe('image');
      expect(graph.steps.map((step) => [step.name, step.inputs])).toEqual([
        ['conv', ['image']],
        ['bn', ['conv']],
        ['flat', ['bn']],
        ['out', ['flat']],
      ]);
      expect(graph.outputName).toBe('out');
    } finally {
      model.dispose();
    }
  });

  it('calibrates every layer and simulates integer inference', async () => {
    const { tf } = runtime;
    const artifact = await artifactFromModel(tf, buildSequentialNet(tf, SIZE, CLASSES));
    const images = generateSynthetic({ seed: 3, count: 8, size: SIZE });
    const ranges = await calibrateActivations(artifact, images, { preprocessing: TINY_PREPROCESSING });
    expect(Object.keys(ranges.layers)).toEqual([...SEQUENTIAL_LAYERS]);
    expect(ranges.input.min).toBeGreaterThanOrEqual(-1);
    expect(ranges.input.max).toBeLessThanOrEqual(1);
    expect(ranges.layers.relu!.min).toBe(0);
    const model = await loadArtifactModel(runtime, artifact);
    try {
      const simulation = simulateIntegerInference(tf, model, { ranges });
      expect(simulation.plan.map((point) => point.tensor)).toContain('conv');
      expect(simulation.plan.some((point) => point.treatment === 'quantized')).toBe(true);
    } finally {
      model.dispose();
    }
  });
});

describe('evaluateCandidates on a Sequential model with the quantize candidate set', () => {
  it('measures every candidate; theta2 folds conv -> BN and its simulation agrees with float on most images', async () => {
    const { tf } = runtime;
    const model = buildSequentialNet(tf, SIZE, CLASSES);
    const test = labelWithSequentialPredictions(
      tf,
      model,
      generateSynthetic({ seed: 1, count: 30, size: SIZE }),
      TINY_PREPROCESSING,
    );
    // Agreement only means something if the float model does not answer one class everywhere.
    expect(new Set(test.labels).size).toBeGreaterThanOrEqual(2);
    const floatArtifact = await artifactFromModel(tf, model);
    const result = await evaluateCandidates(floatArtifact, {
      test,
      calibration: generateSynthetic({ seed: 2, count: 16, size: SIZE }),
      preprocessing: TINY_PREPROCESSING,
      variants: candidateSet,
      latencyRuns: 3,
      warmupRuns: 1,
      brotliQuality: 5,
    });
    const byId = new Map(result.rows.map((row) => [row.variant, row]));
    expect([...byId.keys()]).toEqual(['theta0', ...candidateSet.map((variant) => variant.id)]);
    for (const row of result.rows) {
      expect(row.accuracy).toBeGreaterThanOrEqual(0);
      expect(row.latency.runs).toBe(3);
      expect(row.latency.medianMs).toBeGreaterThan(0);
      expect(row.fileBytes).toBeGreaterThan(0);
      expect(row.confusion.flat().reduce((sum, count) => sum + count, 0)).toBe(30);
      expect(Number.isFinite(row.L)).toBe(true);
    }
    expect(byId.get('theta0')!.accuracy).toBe(1);
    const theta2 = byId.get('theta2')!;
    expect(theta2.simulated).toBe(true);
    expect(byId.get('theta3')!.simulated).toBe(true);
    expect(theta2.accuracy).toBeGreaterThanOrEqual(0.8);
    // Folding found conv -> bn in the Sequential topology: theta2 has no batch norm, and the conv
    // gained the folded bias.
    const theta2Artifact = result.artifacts.get('theta2')!.artifact;
    const theta2Layers = listLayers(theta2Artifact.modelJson.modelTopology).map((layer) => layer.className);
    expect(theta2Layers).not.toContain('BatchNormalization');
    expect(theta2Artifact.tensors.map((tensor) => tensor.name)).toContain('conv/bias');
    expect(theta2.quantizationPlan!.map((point) => point.tensor)).not.toContain('bn');
    process.stderr.write(JSON.stringify(result.rows.map((row) => [row.variant, row.accuracy, row.fileBytes])) + '\n');
  });
});

describe('a model with a nested Sequential backbone', () => {
  for (const outer of ['functional', 'sequential'] as const) {
    it(`(${outer} outer model) is flattened into the backbone's layers and goes through every candidate`, async () => {
      const { tf } = runtime;
      const model = buildNestedNet(tf, SIZE, CLASSES, outer);
      const test = labelWithSequentialPredictions(
        tf,
        model,
        generateSynthetic({ seed: 4, count: 24, size: SIZE }),
        TINY_PREPROCESSING,
      );
      const artifact = await artifactFromModel(tf, model);
      const listed = listLayers(artifact.modelJson.modelTopology)
        .filter((layer) => layer.className !== 'InputLayer')
        .map((layer) => layer.name);
      expect(listed).toEqual([...SEQUENTIAL_LAYERS]);
      const loaded = await loadArtifactModel(runtime, artifact);
      try {
        const graph = layerGraph(loaded);
        // The same names as model-format lists, so calibrated ranges and quantize's stored ranges agree.
        expect(graph.steps.map((step) => step.name)).toEqual(listed);
        expect(graph.steps[0]!.inputs).toEqual([graph.inputName]);
        expect(graph.steps[3]!.inputs).toEqual(['relu']);
        expect(graph.outputName).toBe('predictions');
        const [byLayer, predicted] = tf.tidy(() => {
          const x = tf.randomUniform([2, SIZE, SIZE, 3], -1, 1, 'float32', 9);
          return [runLayerByLayer(graph, x).arraySync(), (loaded.predict(x) as typeof x).arraySync()];
        }) as [number[][], number[][]];
        byLayer.flat().forEach((value, i) => expect(value).toBeCloseTo(predicted.flat()[i]!, 5));
      } finally {
        loaded.dispose();
      }
      const result = await evaluateCandidates(artifact, {
        test,
        calibration: generateSynthetic({ seed: 5, count: 12, size: SIZE }),
        preprocessing: TINY_PREPROCESSING,
        variants: candidateSet,
        latencyRuns: 2,
        warmupRuns: 1,
        brotliQuality: 5,
      });
      expect(result.rows.map((row) => row.variant)).toEqual(['theta0', ...candidateSet.map((variant) => variant.id)]);
      expect(Object.keys(result.ranges!.layers)).toEqual(listed);
      const theta2 = result.rows.find((row) => row.variant === 'theta2')!;
      expect(theta2.simulated).toBe(true);
      expect(theta2.accuracy).toBeGreaterThanOrEqual(0.75);
      // quantize does not fold across a nested model: the batch norm stays, and is simulated with its own range.
      const theta2Artifact = result.artifacts.get('theta2')!.artifact;
      expect(listLayers(theta2Artifact.modelJson.modelTopology).map((layer) => layer.name)).toContain('bn');
      expect(theta2.quantizationPlan!.map((point) => point.tensor)).toContain('bn');
      for (const row of result.rows) expect(row.confusion.flat().reduce((sum, count) => sum + count, 0)).toBe(24);
      process.stderr.write(
        `${outer} nested: ${JSON.stringify(result.rows.map((row) => [row.variant, row.accuracy]))}\n`,
      );
    });
  }
});
