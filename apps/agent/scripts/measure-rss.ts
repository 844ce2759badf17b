// Idle memory of `modelfleet-agent run` between polls (VmRSS from /proc), before any model is installed and
// after one was installed (TF.js + wasm loaded for the smoke test), against the fake device API on loopback.
// Usage: tsx scripts/measure-rss.ts [bundle|source]
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateSigningKey } from '@modelfleet/signing';
import { demoBundle, signedAnswer, startFakeDeviceServer } from '../src/testing/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const mode = process.argv[2] === 'source' ? 'source' : 'bundle';
const entry =
  mode === 'bundle' ? path.join(root, 'dist/modelfleet-agent.mjs') : path.join(root, 'bin/modelfleet-agent.js');
const key = generateSigningKey();
const fake = await startFakeDeviceServer();
const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-rss-'));
const child = spawn(process.execPath, [entry, 'run'], {
  env: {
    ...process.env,
    MODELFLEET_AGENT_SERVER: fake.url,
    MODELFLEET_AGENT_DATA_DIR: dataDir,
    MODELFLEET_AGENT_DEVICE_ID: 'rss-probe',
    MODELFLEET_AGENT_ENROLLMENT_TOKEN: 'mfe_probe',
    MODELFLEET_AGENT_PUBLIC_KEY: key.publicKeyBase64,
    MODELFLEET_AGENT_POLL_SECONDS: '1',
  },
  stdio: ['ignore', 'ignore', 'pipe'],
});
const rounds: Record<string, unknown>[] = [];
const waiters: (() => void)[] = [];
createInterface({ input: child.stderr }).on('line', (line) => {
  try {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed.msg === 'round done') rounds.push(parsed);
  } catch {
    // not a log line
  }
  for (const wake of waiters.splice(0)) wake();
});
const roundsAtLeast = async (count: number) => {
  while (rounds.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
};
const rssKb = async () => {
  const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
};

// The fake server suggests 1 s between polls; measure after a few idle rounds (GC has settled).
await roundsAtLeast(3);
const idleNoModel = await rssKb();
const bundle = demoBundle('base');
fake.blobs.set(bundle.sha256, bundle.bytes);
fake.answer = signedAnswer({ key, bundle, release: 1 });
while (!rounds.some((round) => round.outcome === 'installed')) await roundsAtLeast(rounds.length + 1);
await roundsAtLeast(rounds.length + 3);
const idleWithModel = await rssKb();
child.kill('SIGTERM');
await new Promise((resolve) => child.on('exit', resolve));
await fake.close();
await fs.rm(dataDir, { recursive: true, force: true });
process.stdout.write(
  `${JSON.stringify({ mode, idleRssMiB: { beforeFirstInstall: +(idleNoModel / 1024).toFixed(1), afterInstall: +(idleWithModel / 1024).toFixed(1) } })}\n`,
);
