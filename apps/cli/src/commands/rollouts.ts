import { setTimeout as delay } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import {
  ROLLOUT_STATES,
  type CreateRolloutBody,
  type RolloutAction,
  type RolloutState,
  type RolloutView,
  type RolloutWaveSpec,
} from '@modelfleet/contracts';
import type { ApiClient } from '../client.js';
import type { CliContext } from '../context.js';
import { UsageInvalid } from '../errors.js';
import { renderDeviceList, renderRollout, renderRolloutList } from '../render/rollouts.js';
import { connect, parseList, parseNumberOption, parsePositiveInteger, printJson, wantsJson } from './shared.js';

/** States after which a rollout does not change by itself: `--watch` stops there. */
export const FINISHED_STATES: readonly RolloutState[] = ['completed', 'aborted', 'rolled_back'];

interface CreateOptions {
  line: string;
  channel?: string;
  release?: number;
  candidate?: string;
  version?: string;
  waves: number[];
  canary?: string[];
  tags?: string[];
  success?: number;
  maxFailures?: number;
  maxFailurePercent?: number;
  timeout?: number;
  manual?: boolean;
  watch?: boolean;
}

/** The create body from the flags: an optional canary wave first, then the cumulative percentages. */
export function rolloutBody(options: CreateOptions): CreateRolloutBody {
  const sources = [options.release, options.candidate, options.version].filter((value) => value !== undefined);
  if (sources.length !== 1)
    throw new UsageInvalid('rollouts create needs exactly one of --release N, --candidate ID or --version ID');
  const waves: RolloutWaveSpec[] = [
    ...(options.canary === undefined ? [] : [{ devices: options.canary }]),
    ...options.waves.map((percent) => ({ percent })),
  ];
  if (options.waves.at(-1) !== 100) throw new UsageInvalid('--waves must end at 100 (e.g. --waves 10,50,100)');
  const body: CreateRolloutBody = { line: options.line, waves };
  if (options.channel !== undefined) body.channel = options.channel;
  if (options.release !== undefined) body.release = options.release;
  if (options.candidate !== undefined) body.candidateId = options.candidate;
  if (options.version !== undefined) body.version = options.version;
  if (options.tags !== undefined) body.tagFilter = options.tags;
  if (options.success !== undefined) body.successThreshold = options.success;
  if (options.maxFailures !== undefined || options.maxFailurePercent !== undefined)
    body.errorThreshold = {
      ...(options.maxFailures === undefined ? {} : { count: options.maxFailures }),
      ...(options.maxFailurePercent === undefined ? {} : { percent: options.maxFailurePercent }),
    };
  if (options.timeout !== undefined) body.inProgressTimeoutSeconds = options.timeout;
  if (options.manual === true) body.autoAdvance = false;
  return body;
}

const parsePercentList = (value: string): number[] =>
  parseList(value).map((item) => {
    const percent = parseNumberOption(item);
    if (percent <= 0 || percent > 100) throw new UsageInvalid(`wave percentage ${item} is not in (0, 100]`);
    return percent;
  });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A full rollout id, or the unique rollout whose id starts with the prefix the list shows. */
async function resolveId(client: ApiClient, id: string): Promise<string> {
  if (UUID.test(id)) return id;
  const matches = (await client.listRollouts()).items.filter((view) => view.id.startsWith(id.toLowerCase()));
  if (matches.length !== 1)
    throw new UsageInvalid(`${matches.length === 0 ? 'no' : 'more than one'} rollout id starts with ${id}`);
  return matches[0]!.id;
}

/** Redraws a rollout until it is finished (or Ctrl-C): in place on a terminal, one block per change otherwise. */
async function watch(context: CliContext, client: ApiClient, id: string, first?: RolloutView): Promise<RolloutView> {
  let last = '';
  let view = first ?? (await client.getRollout(id));
  for (;;) {
    const text = renderRollout(view);
    if (text !== last) {
      context.stdout.write(context.stdout.isTTY ? `\x1b[H\x1b[2J${text}` : `${last === '' ? '' : '\n'}${text}`);
      last = text;
    }
    if (FINISHED_STATES.includes(view.state)) return view;
    await delay(context.pollIntervalMs ?? 1000);
    view = await client.getRollout(id);
  }
}

export function registerRolloutCommands(program: Command, context: CliContext): void {
  const rollouts = program.command('rollouts').description('staged rollouts of a release to a channel, in waves');

  rollouts
    .command('create')
    .description('start a rollout: a release (or a candidate, published for it) in waves, with automatic stops')
    .requiredOption('--line <name>', 'model line')
    .option('--channel <name>', "channel (default: the line's policy channel)")
    .option('--release <n>', 'roll out this release of the channel', parsePositiveInteger)
    .option('--candidate <id>', 'publish this candidate for the rollout')
    .option('--version <id>', "publish this version's winner for the rollout")
    .requiredOption('--waves <percents>', 'cumulative shares of the target, e.g. 10,50,100', parsePercentList)
    .option('--canary <devices>', 'a first wave of these device ids', parseList)
    .option('--tags <tags>', 'only devices carrying all these tags', parseList)
    .option(
      '--success <percent>',
      'share of a wave that must succeed before the next starts (default 100)',
      parseNumberOption,
    )
    .option('--max-failures <n>', 'pause when this many devices failed or timed out (default 1)', parsePositiveInteger)
    .option(
      '--max-failure-percent <percent>',
      'pause when this share of the devices so far failed or timed out',
      parseNumberOption,
    )
    .option(
      '--timeout <seconds>',
      'a device silent this long after the offer counts as timed out (default 3600)',
      parsePositiveInteger,
    )
    .option('--manual', 'wait for `rollouts approve` between waves')
    .option('--watch', 'follow the rollout until it is finished')
    .action(async (options: CreateOptions, command: Command) => {
      const body = rolloutBody(options);
      const client = await connect(context, command);
      const view = await client.createRollout(body);
      if (wantsJson(command)) return printJson(context, view);
      if (options.watch === true) return void (await watch(context, client, view.id, view));
      context.stdout.write(`rollout started\n${renderRollout(view)}`);
    });

  rollouts
    .command('status')
    .argument('[id]', 'a rollout id (or the start of one); without it, the list')
    .description('a rollout with per-wave progress, or the list of rollouts')
    .option('--line <name>', 'list: only this line')
    .option('--channel <name>', 'list: only this channel')
    .addOption(new Option('--state <state>', 'list: only rollouts in this state').choices([...ROLLOUT_STATES]))
    .option('--watch', 'redraw until the rollout is finished (Ctrl-C to stop)')
    .action(
      async (
        id: string | undefined,
        options: { line?: string; channel?: string; state?: RolloutState; watch?: boolean },
        command: Command,
      ) => {
        const client = await connect(context, command);
        if (id === undefined) {
          const list = await client.listRollouts({
            ...(options.line === undefined ? {} : { line: options.line }),
            ...(options.channel === undefined ? {} : { channel: options.channel }),
            ...(options.state === undefined ? {} : { state: options.state }),
          });
          if (wantsJson(command)) return printJson(context, list);
          return context.stdout.write(renderRolloutList(list.items));
        }
        const full = await resolveId(client, id);
        if (options.watch === true && !wantsJson(command)) return void (await watch(context, client, full));
        const view = await client.getRollout(full);
        if (wantsJson(command)) return printJson(context, view);
        context.stdout.write(renderRollout(view));
      },
    );

  const actions: [RolloutAction, string][] = [
    ['pause', 'pause a rollout (no new devices get the release)'],
    ['resume', 'resume a paused rollout (errors so far are acknowledged)'],
    ['abort', 'abort a rollout for good (devices that installed the release keep it)'],
    ['approve', 'start the next wave of a rollout awaiting approval'],
    ['rollback', 'republish the previous release under a new, higher number: every device returns to it'],
  ];
  for (const [action, description] of actions)
    rollouts
      .command(action)
      .argument('<id>', 'a rollout id (or the start of one)')
      .description(description)
      .option('--reason <text>', 'why (shown as the state reason)')
      .action(async (id: string, options: { reason?: string }, command: Command) => {
        const client = await connect(context, command);
        const view = await client.rolloutAction(await resolveId(client, id), action, options.reason);
        if (wantsJson(command)) return printJson(context, view);
        context.stdout.write(renderRollout(view));
      });
}

export function registerDeviceCommands(program: Command, context: CliContext): void {
  const devices = program.command('devices').description('the fleet: what every device runs; pins');

  devices
    .command('list', { isDefault: true })
    .description('devices with release, state, smoke-test latency and last seen')
    .option('--line <name>', 'only this line')
    .option('--channel <name>', 'only this channel')
    .option('--tag <tag>', 'only devices with this tag')
    .action(async (options: { line?: string; channel?: string; tag?: string }, command: Command) => {
      const client = await connect(context, command);
      const list = await client.listDevices(options);
      if (wantsJson(command)) return printJson(context, list);
      context.stdout.write(renderDeviceList(list.items));
    });

  devices
    .command('pin')
    .argument('<device>', 'device id')
    .argument('<release>', "a release number of the device's channel", parsePositiveInteger)
    .description('pin a device to a release: it gets that release whatever rollouts do')
    .action(async (device: string, release: number, _options: unknown, command: Command) => {
      const client = await connect(context, command);
      const pin = await client.pinDevice(device, release);
      if (wantsJson(command)) return printJson(context, pin);
      context.stdout.write(`${pin.deviceId} pinned to ${pin.line ?? '-'} ${pin.channel ?? '-'} #${release}\n`);
    });

  devices
    .command('unpin')
    .argument('<device>', 'device id')
    .description('unpin a device: it follows rollouts and its channel again')
    .action(async (device: string, _options: unknown, command: Command) => {
      const client = await connect(context, command);
      const pin = await client.unpinDevice(device);
      if (wantsJson(command)) return printJson(context, pin);
      context.stdout.write(`${pin.deviceId} unpinned\n`);
    });
}
