import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Preprocessing } from '@modelfleet/contracts';
import { generateSigningKey } from '@modelfleet/signing';
import { beforeEach, describe, expect, it } from 'vitest';
import { InstallInterrupted, SmokeTestFailed } from './errors.js';
import {
  INSTALL_STEPS,
  checkReleaseFolder,
  currentRelease,
  installRelease,
  linkedSha256,
  recoverDataFolder,
  type InstallStep,
} from './install.js';
import { dataLayout, RELEASE_FILES, type DataLayout } from './layout.js';
import { smokeTestFolder } from './smoke.js';
import { demoBundle, signedAnswer, type TestBundle } from './testing/fixtures.js';

const key = generateSigningKey();
const first = demoBundle('base');
const second = demoBundle('head');
const passing = async (_folder: string, _preprocessing: Preprocessing) => ({ latencyMs: 1.5, outputShape: [1, 5] });

async function blobFile(dir: string, bundle: TestBundle): Promise<string> {
  const file = path.join(dir, `${bundle.sha256}.blob`);
  await fs.writeFile(file, bundle.bytes);
  return file;
}

async function install(
  layout: DataLayout,
  bundle: TestBundle,
  release: number,
  options: { fault?: (step: InstallStep) => void; smoke?: typeof passing; mode?: 'delivered' | 'stock' } = {},
) {
  return installRelease({
    layout,
    bundleFile: await blobFile(layout.root, bundle),
    manifest: signedAnswer({ key, bundle, release }).releaseManifest,
    installMode: options.mode ?? 'delivered',
    smoke: options.smoke ?? passing,
    ...(options.fault ? { fault: options.fault } : {}),
  });
}

describe('atomic install', () => {
  let layout: DataLayout;
  beforeEach(async () => {
    layout = dataLayout(await fs.mkdtemp(path.join(os.tmpdir(), 'mf-agent-install-')));
  });

  it('installs, swaps current, keeps previous, prunes older releases', async () => {
    await install(layout, first, 1);
    expect(await linkedSha256(layout.current)).toBe(first.sha256);
    expect(await linkedSha256(layout.previous)).toBeNull();
    await install(layout, second, 2);
    expect(await linkedSha256(layout.current)).toBe(second.sha256);
    expect(await linkedSha256(layout.previous)).toBe(first.sha256);
    expect((await checkReleaseFolder(path.join(layout.releases, second.sha256))).release).toBe(2);
    // relative links: the folder can move
    expect(await fs.readlink(layout.current)).toBe(path.join('releases', second.sha256));
    const third = demoBundle('finetune');
    await install(layout, third, 3);
    expect((await fs.readdir(layout.releases)).sort()).toEqual([second.sha256, third.sha256].sort());
    expect((await currentRelease(layout))?.release).toBe(3);
  });

  it('stock mode writes a stock float32 copy that loads and passes the real smoke test', async () => {
    const result = await install(layout, first, 1, { mode: 'stock', smoke: smokeTestFolder });
    const stockJson = JSON.parse(
      await fs.readFile(path.join(result.folder, RELEASE_FILES.stock, 'model.json'), 'utf8'),
    ) as {
      weightsManifest: { weights: { dtype: string; quantization?: unknown }[] }[];
    };
    expect(
      stockJson.weightsManifest[0]!.weights.every((w) => w.dtype === 'float32' && w.quantization === undefined),
    ).toBe(true);
    expect(result.record.smokeLatencyMs).toBeGreaterThan(0);
  });

  it('a failed smoke test leaves current on the previous release and removes the new folder', async () => {
    await install(layout, first, 1);
    const failing = async (_folder: string, _p: Preprocessing) => {
      throw new SmokeTestFailed('output 0 is NaN');
    };
    await expect(install(layout, second, 2, { smoke: failing })).rejects.toSatisfy((error) =>
      SmokeTestFailed.is(error),
    );
    expect(await linkedSha256(layout.current)).toBe(first.sha256);
    expect(await fs.readdir(layout.releases)).toEqual([first.sha256]);
  });

  for (const step of INSTALL_STEPS) {
    it(`a crash after "${step}" leaves a complete, verified current release, and recovery cleans up`, async () => {
      await install(layout, first, 1);
      const crash = (at: InstallStep) => {
        if (at === step) throw new InstallInterrupted(at);
      };
      await expect(install(layout, second, 2, { fault: crash })).rejects.toSatisfy((error) =>
        InstallInterrupted.is(error),
      );
      // at this instant (before any clean-up) current names a complete, verified release
      const current = await linkedSha256(layout.current);
      const swapped = step === 'current-swapped';
      expect(current).toBe(swapped ? second.sha256 : first.sha256);
      await checkReleaseFolder(path.join(layout.releases, current!));

      const recovery = await recoverDataFolder(layout);
      expect(recovery.repointed).toBeNull();
      const left = await fs.readdir(layout.releases);
      expect(left.some((name) => name.startsWith('.staging-'))).toBe(false);
      expect((await fs.readdir(layout.root)).some((name) => name.startsWith('.link-'))).toBe(false);
      await checkReleaseFolder(path.join(layout.releases, (await linkedSha256(layout.current))!));
      // and the interrupted install completes when retried
      await install(layout, second, 2);
      expect(await linkedSha256(layout.current)).toBe(second.sha256);
      expect(await linkedSha256(layout.previous)).toBe(first.sha256);
    });
  }

  it('recovery removes temporary links and repoints a current whose folder lost data', async () => {
    await install(layout, first, 1);
    await install(layout, second, 2);
    await fs.symlink(path.join('releases', second.sha256), path.join(layout.root, '.link-current-abc'));
    await fs.writeFile(path.join(layout.releases, second.sha256, RELEASE_FILES.bundle), 'truncated');
    const recovery = await recoverDataFolder(layout);
    expect(recovery.removed).toContain('.link-current-abc');
    expect(recovery.repointed).toBe(first.sha256);
    expect(await linkedSha256(layout.current)).toBe(first.sha256);
  });
});
