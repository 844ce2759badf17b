import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from './run.js';
import { candidate, modelLine, modelVersion, release, testContext } from './testing/fixtures.js';
import { startStubApi, STUB_KEY, type StubApi } from './testing/stub-api.js';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('modelfleet', () => {
  let api: StubApi;
  let home: string;
  let modelFolder: string;

  const readyVersion = modelVersion({
    candidates: [
      candidate(),
      candidate({
        id: 'c2',
        variant: 'theta4-float16',
        encoding: 'float16',
        fileBytes: 1_650_688,
        objective: -0.5,
        winner: true,
      }),
    ],
    selection: {
      winnerVariant: 'theta4-float16',
      reason: 'lowest L (-0.500) among 2 eligible candidates',
      details: {},
    },
    releaseNumbers: [{ channel: 'stable', number: 3 }],
  });
  const progressScript = [
    modelVersion({ status: 'uploaded', progress: { stage: null, percent: 0 }, finishedAt: null }),
    modelVersion({ status: 'optimizing', progress: { stage: 'decode', percent: 5 }, finishedAt: null }),
    modelVersion({
      status: 'optimizing',
      progress: { stage: 'evaluate theta4-float16', percent: 60 },
      finishedAt: null,
    }),
  ];

  beforeAll(async () => {
    api = await startStubApi({ line: modelLine(), release: release() });
    modelFolder = await mkdtemp(join(tmpdir(), 'mf-cli-model-'));
    await writeFile(
      join(modelFolder, 'model.json'),
      JSON.stringify({ weightsManifest: [{ paths: ['w.bin'], weights: [] }] }),
    );
    await writeFile(join(modelFolder, 'w.bin'), Buffer.alloc(4096, 1));
  });
  afterAll(async () => {
    await api.app.close();
    await rm(modelFolder, { recursive: true, force: true });
  });
  beforeEach(async () => {
    if (home !== undefined) await rm(home, { recursive: true, force: true });
    home = await mkdtemp(join(tmpdir(), 'mf-cli-home-'));
    api.calls.length = 0;
  });

  /** Runs the CLI as a person would, with MODELFLEET_SERVER / MODELFLEET_KEY pointing at the stub. */
  async function run(
    argv: string[],
    env: NodeJS.ProcessEnv = { MODELFLEET_SERVER: api.url, MODELFLEET_KEY: STUB_KEY },
    now?: () => number,
  ) {
    const context = testContext({ homeDir: home, env, ...(now ? { now } : {}) });
    const code = await runCli(argv, context);
    return { code, stdout: context.stdout.text, stderr: context.stderr.text };
  }

  it('login checks the key, keeps server and key in a 0600 file, and later commands use it', async () => {
    const login = await run(['login', '--server', api.url, '--key', STUB_KEY], {});
    expect(login.code).toBe(0);
    expect(login.stdout).toContain('scopes: admin');
    const path = join(home, '.config', 'modelfleet', 'config.json');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ server: api.url, key: STUB_KEY });
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const list = await run(['models', 'list'], {});
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/sorter\s+3\s+64x64/);
    expect(api.calls.at(-1)?.authorization).toBe(`Bearer ${STUB_KEY}`);
  });

  it('login with a wrong key prints the server code, exits 1 and stores nothing', async () => {
    const login = await run(['login', '--server', api.url, '--key', 'mfk_wrong'], {});
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^error MF_ERR_CREDENTIAL_INVALID: the credential is unknown/);
    await expect(stat(join(home, '.config', 'modelfleet', 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says which server failed when it cannot be reached', async () => {
    const server = `http://127.0.0.1:${await closedPort()}`;
    const result = await run(['models', 'list', '--server', server]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `error MF_ERR_CLI_SERVER_UNREACHABLE: cannot reach the ModelFleet server at ${server} (GET /v1/models)`,
    );
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it('models create sends the preprocessing and only the policy fields given', async () => {
    const result = await run([
      'models',
      'create',
      'belt-b',
      '--classes',
      'pet,can,glass',
      '--input-size',
      '96x128',
      '--max-drop',
      '0.5',
      '--no-auto-publish',
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('created model line belt-b');
    expect(api.calls.at(-1)?.body).toEqual({
      name: 'belt-b',
      preprocessing: { inputSize: [96, 128], scale: 1 / 127.5, offset: -1, classNames: ['pet', 'can', 'glass'] },
      policy: { constraints: { maxAccuracyDropPoints: 0.5 }, autoPublish: false },
    });
  });

  it('models create takes the scale as a fraction and the policy weights', async () => {
    const result = await run([
      'models',
      'create',
      'belt-c',
      '--classes',
      'a,b',
      '--input-size',
      '32x32',
      '--scale',
      '1/255',
      '--offset',
      '0',
      '--weights',
      'latency=0.5',
    ]);
    expect(result.code).toBe(0);
    expect(api.calls.at(-1)?.body).toMatchObject({
      preprocessing: { scale: 1 / 255, offset: 0 },
      policy: { weights: { size: 1, latency: 0.5, accuracy: 1 } },
    });
  });

  it('usage errors exit 2 in the one error format, before any request', async () => {
    const cases = [
      ['models', 'create', 'x', '--classes', 'a,b', '--input-size', '64'],
      ['models', 'create', 'x', '--classes', 'a,b', '--input-size', '64x64', '--variants', 'theta9'],
      ['datasets', 'add', 'f.zip', '--line', 'sorter', '--role', 'validation'],
      ['publish', '--line', 'sorter'],
      ['publish', '--line', 'sorter', '--version', 'v', '--candidate', 'c'],
      ['releases', '--lines', 'sorter'],
      ['models', 'create', 'x', '--classes', 'a,b', '--input-size', '64x64', '--scale', '1/0'],
      ['models', 'create', 'x', '--classes', 'a,,b', '--input-size', '64x64'],
      ['models', 'create', 'x', '--classes', 'a,b', '--input-size', '64x64', '--weights', 'speed=2'],
    ];
    for (const argv of cases) {
      const result = await run(argv);
      expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
      expect(result.stderr).toMatch(/^error MF_ERR_CLI_USAGE: /);
    }
    expect(api.calls).toHaveLength(0);
  });

  it('models show passes a 404 through with its code', async () => {
    const result = await run(['models', 'show', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error MF_ERR_LINE_NOT_FOUND: model line nope not found\n');
  });

  it('upload --wait follows the job stage by stage, prints the candidate table and exits 0 when ready', async () => {
    api.versionScript = [...progressScript, readyVersion];
    const result = await run(['upload', modelFolder, '--line', 'sorter', '--wait']);
    expect(result.stderr).toBe(
      [
        `uploading model.json + 1 weight shard(s) from ${modelFolder} (4.1 KiB) to ${api.url}, line sorter`,
        ...result.stderr.split('\n').filter((line) => line.startsWith('upload [')),
        'version ver-1 accepted; following the optimize job',
        'uploaded   [------------------------]   0%',
        'optimizing [#-----------------------]   5%  decode',
        'optimizing [##############----------]  60%  evaluate theta4-float16',
        'ready      [########################] 100%  done',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toContain('upload [########################] 100%');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\*\s+theta4-float16\s+float16/m);
    expect(result.stdout).toContain('reason: lowest L (-0.500) among 2 eligible candidates');
    expect(result.stdout).toContain('released: stable #3');
  });

  it('upload --wait exits 1 with the job error code when the version fails', async () => {
    api.versionScript = [
      progressScript[0] ?? modelVersion(),
      modelVersion({
        status: 'failed',
        progress: { stage: 'decode', percent: 5 },
        error: { code: 'MF_ERR_LAYER_UNSUPPORTED', message: 'layer Lambda is not supported' },
      }),
    ];
    const result = await run(['upload', modelFolder, '--line', 'sorter', '--wait']);
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(
      'error MF_ERR_LAYER_UNSUPPORTED: layer Lambda is not supported',
    );
  });

  it('upload --wait gives up after --timeout seconds with MF_ERR_CLI_WAIT_TIMEOUT', async () => {
    api.versionScript = progressScript;
    let clock = 0;
    // Each reading of the clock is 10 s later, so the 60 s deadline passes after a handful of polls.
    const result = await run(
      ['upload', modelFolder, '--line', 'sorter', '--wait', '--timeout', '60'],
      undefined,
      () => (clock += 10_000),
    );
    expect(result.code).toBe(1);
    expect(result.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^error MF_ERR_CLI_WAIT_TIMEOUT: version ver-1 is still optimizing after \d+ seconds$/,
    );
  });

  it('upload --json --wait prints only the final version JSON on stdout', async () => {
    api.versionScript = [...progressScript, readyVersion];
    const result = await run(['upload', modelFolder, '--line', 'sorter', '--wait', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(readyVersion);
    expect(result.stderr).toBe('');
  });

  it('upload refuses a folder whose model.json names a missing shard before sending anything', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'mf-cli-missing-'));
    try {
      await writeFile(
        join(folder, 'model.json'),
        JSON.stringify({
          weightsManifest: [
            { paths: ['a.bin', 'b.bin'], weights: [] },
            { paths: ['c.bin'], weights: [] },
          ],
        }),
      );
      await writeFile(join(folder, 'a.bin'), Buffer.alloc(10));
      const result = await run(['upload', folder, '--line', 'sorter']);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `error MF_ERR_CLI_SHARD_MISSING: model.json in ${folder} names weight shard(s) that are not there: b.bin, c.bin\n`,
      );
      expect(api.calls).toHaveLength(0);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('publish sends the version, releases lists the channel, candidates --format csv prints the server text', async () => {
    const published = await run(['publish', '--line', 'sorter', '--version', 'ver-1', '--channel', 'canary']);
    expect(published.code).toBe(0);
    expect(api.calls.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/models/sorter/releases',
      body: { version: 'ver-1', channel: 'canary' },
    });
    expect(published.stdout).toContain('sorter stable #3');

    const releases = await run(['releases', '--line', 'sorter', '--channel', 'stable']);
    expect(api.calls.at(-1)?.url).toBe('/v1/models/sorter/releases?channel=stable');
    expect(releases.stdout).toMatch(/stable\s+3\s+theta4-float16\s+1\.6 MiB\s+cccccccccccc/);

    const csv = await run(['candidates', 'ver-1', '--line', 'sorter', '--format', 'csv']);
    expect(api.calls.at(-1)?.url).toBe('/v1/models/sorter/versions/ver-1?format=csv');
    expect(csv.stdout).toBe('variant,acc\ntheta0-float32,99.18\n');
  });

  it('keys create prints only the new key on stdout, so scripts can capture it', async () => {
    const result = await run(['keys', 'create', '--name', 'ci', '--scopes', 'upload,read,upload']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`mfk_9f8e7d6c_${'x'.repeat(43)}\n`);
    expect(result.stderr).toContain('it is not shown again');
    expect(api.calls.at(-1)?.body).toEqual({ name: 'ci', scopes: ['upload', 'read'] });
    expect((await run(['keys', 'create', '--name', 'ci', '--scopes', 'root'])).code).toBe(2);
  });

  it('--json prints the raw API answer and nothing else', async () => {
    const result = await run(['--json', 'releases', '--line', 'sorter']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ items: [release()] });
    expect(result.stderr).toBe('');
  });
});
