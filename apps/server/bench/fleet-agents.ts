/**
 * One process of simulated devices for bench:fleet: `count` agents, each with a data folder of its own, built
 * from the agent's own code (createAgent: enrol, poll, verify, download, install, report through the outbox).
 * The one thing replaced is the smoke test (it loads the model in TF.js, seconds of CPU per device): a pass.
 * Every agent polls every `pollSeconds` (with jitter) until SIGTERM. Bytes received are counted per kind of
 * request through the agent's fetch seam. Events go to stdout as JSON lines.
 *
 *   tsx bench/fleet-agents.ts <config JSON>
 *     { server, dataRoot, first, count, enrollmentToken, publicKey, pollSeconds, classes }
 */
import path from 'node:path';
import { createAgent, parseAgentConfig, silentLogger } from '@modelfleet/agent';

interface AgentsConfig {
  server: string;
  dataRoot: string;
  first: number;
  count: number;
  enrollmentToken: string;
  publicKey: string;
  pollSeconds: number;
  classes: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as AgentsConfig;
const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

/** Bytes of response bodies by kind: poll answers, artifacts/deltas (blob routes), the rest. */
const received = { poll: 0, blob: 0, other: 0 };
const requests = { blob: 0, delta: 0 };
function kindOf(url: string): keyof typeof received {
  const { pathname } = new URL(url);
  if (pathname.startsWith('/v1/device/update')) return 'poll';
  if (pathname.startsWith('/v1/blobs/') || pathname.includes('delta')) return 'blob';
  return 'other';
}
const countingFetch: typeof fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const response = await fetch(input, init);
  const kind = kindOf(url);
  if (kind === 'blob') {
    if (new URL(url).pathname.includes('delta')) requests.delta += 1;
    else requests.blob += 1;
  }
  if (response.body === null) return response;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      received[kind] += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
};

let stopping = false;
const sleepers = new Set<() => void>();
process.once('SIGTERM', () => {
  stopping = true;
  for (const wake of sleepers) wake();
});
const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    const wake = () => {
      clearTimeout(timer);
      sleepers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    sleepers.add(wake);
  });

async function runOne(index: number): Promise<void> {
  const deviceId = `agent-${String(index).padStart(5, '0')}`;
  const agentConfig = parseAgentConfig({
    flags: {
      server: config.server,
      'enrollment-token': config.enrollmentToken,
      'device-id': deviceId,
      'data-dir': path.join(config.dataRoot, deviceId),
      'public-key': config.publicKey,
      'poll-seconds': String(config.pollSeconds),
      'min-poll-seconds': '1',
      'backoff-base-seconds': '1',
      'backoff-cap-seconds': '5',
    },
    env: {},
  });
  const agent = createAgent({
    config: agentConfig,
    log: silentLogger,
    fetch: countingFetch,
    smoke: async () => ({ latencyMs: 0, outputShape: [1, config.classes] }),
  });
  await agent.recover();
  // Spread the first polls over one interval, as a fleet switched on over time would.
  await sleep(Math.random() * config.pollSeconds * 1000);
  let announced = false;
  while (!stopping) {
    try {
      const outcome = await agent.checkForUpdate();
      if (outcome.kind !== 'up-to-date' && outcome.kind !== 'no-release') emit({ deviceId, ...outcome });
      else if (!announced) emit({ deviceId, kind: 'polled' });
      announced = true;
    } catch (error) {
      emit({ deviceId, kind: 'error', reason: error instanceof Error ? error.message : String(error) });
    }
    await sleep(config.pollSeconds * 1000 * (0.75 + Math.random() * 0.5));
  }
}

const reporter = setInterval(() => emit({ kind: 'bytes', received, requests }), 1000);
await Promise.all(Array.from({ length: config.count }, (_, i) => runOne(config.first + i)));
clearInterval(reporter);
emit({ kind: 'bytes', received, requests });
emit({ kind: 'stopped' });
