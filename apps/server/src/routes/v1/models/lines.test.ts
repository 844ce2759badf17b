import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VARIANTS, type ModelLine } from '@modelfleet/contracts';
import { startTestServer, type TestServer } from '../../../testing/test-server.js';
import { DEMO_PREPROCESSING, rowCounts } from '../../../testing/api.js';

describe('model lines', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  const post = (payload: unknown) =>
    server.app.inject({ method: 'POST', url: '/v1/models', headers: server.auth(), payload: payload as object });

  it('creates a line with every policy default filled in, and its channel', async () => {
    const response = await post({ name: 'lines-defaults', preprocessing: DEMO_PREPROCESSING });
    expect(response.statusCode).toBe(201);
    const line = response.json<ModelLine>();
    expect(line).toMatchObject({ name: 'lines-defaults', preprocessing: DEMO_PREPROCESSING });
    expect(line.policy).toEqual({
      variants: [...VARIANTS],
      weights: { size: 1, latency: 1, accuracy: 1 },
      constraints: { maxAccuracyDropPoints: 1 },
      autoPublish: true,
      channel: 'stable',
      latencyRuns: 40,
    });
    const channels = await server.services.db.prisma.channel.findMany({ where: { lineId: line.id } });
    expect(channels.map((channel) => channel.name)).toEqual(['stable']);
  });

  it('keeps what a partial policy says and fills the rest, nested objects included', async () => {
    const response = await post({
      name: 'lines-partial',
      preprocessing: { inputSize: [96, 128], classNames: ['cat', 'dog'] },
      policy: { variants: ['theta4', 'palette16'], weights: { size: 2 }, autoPublish: false, channel: 'canary' },
    });
    expect(response.statusCode).toBe(201);
    const line = response.json<ModelLine>();
    // scale and offset default to the [-1, 1] mapping.
    expect(line.preprocessing).toEqual({
      inputSize: [96, 128],
      scale: 1 / 127.5,
      offset: -1,
      classNames: ['cat', 'dog'],
    });
    expect(line.policy).toEqual({
      variants: ['theta4', 'palette16'],
      weights: { size: 2, latency: 1, accuracy: 1 },
      constraints: { maxAccuracyDropPoints: 1 },
      autoPublish: false,
      channel: 'canary',
      latencyRuns: 40,
    });
    const stored = await server.services.db.prisma.modelLine.findUniqueOrThrow({ where: { name: 'lines-partial' } });
    expect(stored.policy).toEqual(line.policy);
  });

  it('lists lines by name and gets one', async () => {
    const list = await server.app.inject({ method: 'GET', url: '/v1/models', headers: server.auth() });
    expect(list.statusCode).toBe(200);
    const names = list.json<{ items: ModelLine[] }>().items.map((line) => line.name);
    expect(names).toEqual(['lines-defaults', 'lines-partial']);
    const one = await server.app.inject({ method: 'GET', url: '/v1/models/lines-partial', headers: server.auth() });
    expect(one.statusCode).toBe(200);
    expect(one.json<ModelLine>()).toMatchObject({ name: 'lines-partial', policy: { channel: 'canary' } });
  });

  it('refuses a second line of the same name with 409 MF_ERR_LINE_EXISTS and keeps the first', async () => {
    const before = await rowCounts(server);
    const response = await post({
      name: 'lines-defaults',
      preprocessing: { ...DEMO_PREPROCESSING, classNames: ['a', 'b'] },
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toMatchObject({ code: 'MF_ERR_LINE_EXISTS' });
    expect(await rowCounts(server)).toEqual(before);
    const kept = await server.services.db.prisma.modelLine.findUniqueOrThrow({ where: { name: 'lines-defaults' } });
    expect((kept.preprocessing as { classNames: string[] }).classNames).toEqual(DEMO_PREPROCESSING.classNames);
  });

  it('refuses invalid bodies with 400 MF_ERR_REQUEST_INVALID and stores nothing', async () => {
    const before = await rowCounts(server);
    const invalid: [string, unknown][] = [
      ['upper-case name', { name: 'Bad Name', preprocessing: DEMO_PREPROCESSING }],
      ['no preprocessing', { name: 'lines-bad-1' }],
      ['one class', { name: 'lines-bad-2', preprocessing: { ...DEMO_PREPROCESSING, classNames: ['only'] } }],
      ['duplicate classes', { name: 'lines-bad-3', preprocessing: { ...DEMO_PREPROCESSING, classNames: ['a', 'a'] } }],
      ['input too small', { name: 'lines-bad-4', preprocessing: { ...DEMO_PREPROCESSING, inputSize: [4, 4] } }],
      ['unknown variant', { name: 'lines-bad-5', preprocessing: DEMO_PREPROCESSING, policy: { variants: ['theta9'] } }],
      ['too few latency runs', { name: 'lines-bad-6', preprocessing: DEMO_PREPROCESSING, policy: { latencyRuns: 1 } }],
      ['no variants', { name: 'lines-bad-7', preprocessing: DEMO_PREPROCESSING, policy: { variants: [] } }],
    ];
    for (const [why, body] of invalid) {
      const response = await post(body);
      expect(response.statusCode, why).toBe(400);
      expect(response.json().code, why).toBe('MF_ERR_REQUEST_INVALID');
    }
    expect(await rowCounts(server)).toEqual(before);
    expect(await server.services.db.prisma.channel.count()).toBe(2);
  });

  it('answers 404 MF_ERR_LINE_NOT_FOUND for an unknown line, on the line and below it', async () => {
    for (const url of [
      '/v1/models/no-such-line',
      '/v1/models/no-such-line/datasets',
      '/v1/models/no-such-line/versions',
      '/v1/models/no-such-line/releases',
    ]) {
      const response = await server.app.inject({ method: 'GET', url, headers: server.auth() });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().code, url).toBe('MF_ERR_LINE_NOT_FOUND');
    }
  });
});
