import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { DeviceInfo, ErrorResponse, ModelLine, ModelVersion, Release, RolloutView } from '@modelfleet/contracts';

export interface RecordedCall {
  method: string;
  url: string;
  authorization: string | undefined;
  body: unknown;
}

export interface StubApi {
  app: FastifyInstance;
  url: string;
  calls: RecordedCall[];
  /** The answers to successive GETs of a version; the last one repeats. */
  versionScript: ModelVersion[];
  release: Release;
  /** The answers to successive GETs of a rollout; the last one repeats. POST /v1/rollouts answers the first. */
  rolloutScript: RolloutView[];
  devices: DeviceInfo[];
}

export const STUB_KEY = 'mfk_stubkey0000000000000000';

function fail(reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  const body: ErrorResponse = { statusCode, code, error: 'Error', message };
  return reply.status(statusCode).send(body);
}

/**
 * A stand-in for the ModelFleet REST API that speaks the contracts' shapes, checks the key, and records
 * every call; it lets the CLI's commands run end to end (argv -> HTTP -> output) without the real server.
 */
export async function startStubApi(options: { line: ModelLine; release: Release }): Promise<StubApi> {
  const app = Fastify();
  await app.register(multipart, { limits: { fileSize: 1024 * 1024 * 1024 } });
  const stub: StubApi = {
    app,
    url: '',
    calls: [],
    versionScript: [],
    release: options.release,
    rolloutScript: [],
    devices: [],
  };
  let rolloutReads = 0;
  let versionReads = 0;

  app.addHook('preHandler', async (request: FastifyRequest, reply) => {
    stub.calls.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.authorization,
      body: request.isMultipart() ? 'multipart' : request.body,
    });
    if (request.headers.authorization !== `Bearer ${STUB_KEY}`)
      return fail(reply, 401, 'MF_ERR_CREDENTIAL_INVALID', 'the credential is unknown, revoked or expired');
  });

  app.get('/v1/whoami', async () => ({ kind: 'person', prefix: 'mfk_stub', scopes: ['admin'] }));
  app.post('/v1/api-keys', async (request, reply) => {
    const body = request.body as { name: string; scopes: string[] };
    const info = {
      id: 'key-2',
      name: body.name,
      prefix: 'mfk_9f8e7d6c',
      scopes: body.scopes,
      createdAt: new Date(0).toISOString(),
      revokedAt: null,
    };
    return reply.status(201).send({ ...info, key: `mfk_9f8e7d6c_${'x'.repeat(43)}` });
  });
  app.get('/v1/models', async () => ({ items: [options.line] }));
  app.post('/v1/models', async (request, reply) =>
    reply.status(201).send({ ...options.line, name: (request.body as { name: string }).name }),
  );
  app.get('/v1/models/:line', async (request, reply) => {
    const { line } = request.params as { line: string };
    if (line !== options.line.name) return fail(reply, 404, 'MF_ERR_LINE_NOT_FOUND', `model line ${line} not found`);
    return options.line;
  });
  app.post('/v1/models/:line/versions', async (request, reply) => {
    for await (const part of request.parts()) if (part.type === 'file') part.file.resume();
    versionReads = 0;
    return reply.status(202).send({ id: 'ver-1', status: 'uploaded', statusUrl: '/v1/models/sorter/versions/ver-1' });
  });
  app.get('/v1/models/:line/versions/:version', async (request, reply) => {
    const { format } = request.query as { format?: string };
    if (format === 'csv') return reply.type('text/csv').send('variant,acc\ntheta0-float32,99.18\n');
    const index = Math.min(versionReads, stub.versionScript.length - 1);
    versionReads += 1;
    return stub.versionScript[index];
  });
  app.post('/v1/models/:line/releases', async (_request, reply) => reply.status(201).send(stub.release));
  app.get('/v1/models/:line/releases', async () => ({ items: [stub.release] }));

  app.post('/v1/rollouts', async (_request, reply) => {
    rolloutReads = 0;
    return reply.status(201).send(stub.rolloutScript[0]);
  });
  app.get('/v1/rollouts', async () => ({ items: stub.rolloutScript.slice(-1) }));
  app.get('/v1/rollouts/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const index = Math.min(rolloutReads, stub.rolloutScript.length - 1);
    const view = stub.rolloutScript[index];
    if (view === undefined || view.id !== id)
      return fail(reply, 404, 'MF_ERR_ROLLOUT_NOT_FOUND', `rollout ${id} does not exist`);
    rolloutReads += 1;
    return view;
  });
  app.post('/v1/rollouts/:id/:action', async (request) => {
    const { action } = request.params as { action: string };
    const states: Record<string, RolloutView['state']> = {
      pause: 'paused',
      resume: 'running',
      abort: 'aborted',
      approve: 'running',
      rollback: 'rolled_back',
    };
    const reason = (request.body as { reason?: string } | undefined)?.reason ?? null;
    return { ...stub.rolloutScript.at(-1)!, state: states[action]!, stateReason: reason };
  });
  app.get('/v1/devices', async () => ({ items: stub.devices }));
  app.put('/v1/devices/:deviceId/pin', async (request) => ({
    deviceId: (request.params as { deviceId: string }).deviceId,
    line: 'sorter',
    channel: 'stable',
    pinnedRelease: (request.body as { release: number }).release,
  }));
  app.delete('/v1/devices/:deviceId/pin', async (request) => ({
    deviceId: (request.params as { deviceId: string }).deviceId,
    line: 'sorter',
    channel: 'stable',
    pinnedRelease: null,
  }));

  stub.url = await app.listen({ port: 0, host: '127.0.0.1' });
  return stub;
}
