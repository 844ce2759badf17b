import { InvalidArgumentError, type Command } from 'commander';
import { VARIANTS, type CreateModelLineBody, type OptimizationPolicy, type VariantName } from '@modelfleet/contracts';
import type { CliContext } from '../context.js';
import { renderModelLine, renderModelLineList } from '../render/resources.js';
import {
  connect,
  parseList,
  parseNumberOption,
  parsePositiveInteger,
  parseRatioOption,
  printJson,
  wantsJson,
} from './shared.js';

/** "64x64" or "96x128" -> [height, width]. */
export function parseInputSize(value: string): [number, number] {
  const match = /^(\d+)x(\d+)$/i.exec(value.trim());
  if (match === null) throw new InvalidArgumentError('expected HEIGHTxWIDTH in pixels, e.g. 64x64.');
  return [Number(match[1]), Number(match[2])];
}

export function parseVariants(value: string): VariantName[] {
  const names = parseList(value);
  const unknown = names.filter((name) => !(VARIANTS as readonly string[]).includes(name));
  if (unknown.length > 0)
    throw new InvalidArgumentError(`unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}.`);
  return names as VariantName[];
}

/** "size=1,latency=0.5,accuracy=2" -> the objective's weights; a term left out keeps weight 1. */
export function parseWeights(value: string): OptimizationPolicy['weights'] {
  const weights = { size: 1, latency: 1, accuracy: 1 };
  for (const item of parseList(value)) {
    const [name, raw] = item.split('=');
    const number = Number(raw);
    if (
      (name !== 'size' && name !== 'latency' && name !== 'accuracy') ||
      raw === undefined ||
      !Number.isFinite(number) ||
      number < 0
    ) {
      throw new InvalidArgumentError('expected size=N,latency=N,accuracy=N with non-negative numbers.');
    }
    weights[name] = number;
  }
  return weights;
}

interface CreateOptions {
  classes: string[];
  inputSize: [number, number];
  scale?: number;
  offset?: number;
  description?: string;
  channel?: string;
  variants?: VariantName[];
  maxDrop?: number;
  weights?: OptimizationPolicy['weights'];
  latencyRuns?: number;
  autoPublish: boolean;
}

/** The request body from the options; policy fields the person did not set are left to the server's defaults. */
export function createModelLineBody(
  name: string,
  options: CreateOptions,
  autoPublishGiven: boolean,
): CreateModelLineBody {
  const policy: NonNullable<CreateModelLineBody['policy']> = {};
  if (options.variants !== undefined) policy.variants = options.variants;
  if (options.weights !== undefined) policy.weights = options.weights;
  if (options.maxDrop !== undefined) policy.constraints = { maxAccuracyDropPoints: options.maxDrop };
  if (autoPublishGiven) policy.autoPublish = options.autoPublish;
  if (options.channel !== undefined) policy.channel = options.channel;
  if (options.latencyRuns !== undefined) policy.latencyRuns = options.latencyRuns;
  const body: CreateModelLineBody = {
    name,
    preprocessing: {
      inputSize: options.inputSize,
      // The contract's defaults (MobileNet's [-1, 1] input range), sent explicitly because the field is required.
      scale: options.scale ?? 1 / 127.5,
      offset: options.offset ?? -1,
      classNames: options.classes,
    },
  };
  if (options.description !== undefined) body.description = options.description;
  if (Object.keys(policy).length > 0) body.policy = policy;
  return body;
}

export function registerModelCommands(program: Command, context: CliContext): void {
  const models = program
    .command('models')
    .description('model lines: a name, the input preprocessing and the optimization policy');

  models
    .command('create <name>')
    .description('create a model line')
    .requiredOption('--classes <a,b,c>', 'class names, in the order of the model output', parseList)
    .requiredOption('--input-size <HxW>', 'input size in pixels, height x width (e.g. 64x64)', parseInputSize)
    .option('--scale <number>', 'input preprocessing: x * scale + offset (default 1/127.5)', parseRatioOption)
    .option('--offset <number>', 'input preprocessing offset (default -1)', parseNumberOption)
    .option('--description <text>', 'free text')
    .option('--channel <name>', 'channel the winner is published to (default stable)')
    .option('--variants <list>', `candidates to try (default all: ${VARIANTS.join(',')})`, parseVariants)
    .option(
      '--max-drop <points>',
      'largest accepted test-accuracy drop against float32, in points (default 1)',
      parseNumberOption,
    )
    .option('--weights <size=N,latency=N,accuracy=N>', 'weights of the objective L (default 1 each)', parseWeights)
    .option('--latency-runs <n>', 'timed single-image runs per candidate (default 40)', parsePositiveInteger)
    .option('--no-auto-publish', 'do not publish the winner automatically')
    .action(async (name: string, options: CreateOptions, command: Command) => {
      const body = createModelLineBody(name, options, command.getOptionValueSource('autoPublish') === 'cli');
      const client = await connect(context, command);
      const line = await client.createModelLine(body);
      if (wantsJson(command)) return printJson(context, line);
      context.stdout.write(`created model line ${line.name}\n${renderModelLine(line)}`);
    });

  models
    .command('list')
    .description('list model lines')
    .action(async (_options: unknown, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listModelLines();
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderModelLineList(list.items));
    });

  models
    .command('show <name>')
    .description('show one model line with its policy')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = await connect(context, command);
      const line = await client.getModelLine(name);
      if (wantsJson(command)) return printJson(context, line);
      context.stdout.write(renderModelLine(line));
    });
}
