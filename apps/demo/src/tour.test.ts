import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTour, type TourResult } from './tour.js';

/*
 * The README's first command, `npm run demo`, end to end: a real server process on the embedded default,
 * the demo line, the demo model optimized and published, agent processes that install it, and the successor
 * they move to by delta. One variant (float16) keeps it short; the tour is the same for all of them.
 */
describe('the newcomer tour (npm run demo)', () => {
  const lines: string[] = [];
  let dataDir = '';
  let tour: TourResult | undefined;
  afterAll(async () => {
    await tour?.stop();
    if (dataDir !== '') await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('publishes the winner, installs it on the agents and moves them to the successor by delta', async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'mf-demo-'));
    tour = await runTour({
      dataDir,
      port: 0,
      host: '127.0.0.1',
      agents: 2,
      variants: ['theta4'],
      // Latency out of L: with a few timed runs on a shared machine float32 could win one release and float16
      // the other, and a change of encoding is no delta.
      weights: { size: 1, latency: 0, accuracy: 1 },
      exit: true,
      jobTimeoutMs: 240_000,
      say: (text) => lines.push(text),
    });
    const story = lines.join('\n');
    expect(tour.releases).toEqual([1, 2]);
    expect(story).toMatch(/Winner: theta4 .* published as release 1 on stable/);
    expect(story).toContain('demo-pi-1: release 1 installed');
    expect(story).toContain('demo-pi-2: release 2 installed');
    // The successor differs from the base in its head only: a delta is a small share of the artifact.
    expect(tour.successorDownload.kind).toBe('delta');
    expect(tour.successorDownload.fullBytes).toBeGreaterThan(100_000);
    expect(tour.successorDownload.bytes / 2).toBeLessThan(tour.successorDownload.fullBytes / 10);
    expect(story).toContain('The agents moved by delta');
    // The logs a newcomer is pointed to exist.
    expect((await fs.readdir(path.join(dataDir, 'logs'))).sort()).toEqual(
      ['demo-pi-1.log', 'demo-pi-2.log', 'server.log'].sort(),
    );
  }, 420_000);
});
