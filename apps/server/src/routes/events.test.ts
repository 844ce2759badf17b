import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLine } from '../testing/api.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';

interface StreamEvent {
  event: string;
  topics: string[];
}

/** Reads server-sent events from a fetch() body, as the dashboard does. */
function eventReader(body: ReadableStream<Uint8Array>) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return async function next(deadlineMs: number): Promise<StreamEvent> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) return { event, ...(JSON.parse(data) as { topics: string[] }) };
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error('no event before the deadline');
      let timer: NodeJS.Timeout | undefined;
      const read = await Promise.race([
        reader.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no event before the deadline')), remaining);
        }),
      ]).finally(() => clearTimeout(timer));
      if (read.done) throw new Error('the stream ended');
      buffer += read.value;
    }
  };
}

describe('GET /v1/events', () => {
  let server: TestServer;
  let base: string;

  beforeAll(async () => {
    server = await startTestServer();
    await server.app.listen({ port: 0, host: '127.0.0.1' });
    const address = server.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    base = `http://127.0.0.1:${address.port}`;
  }, 60_000);
  afterAll(() => server?.close());

  it('refuses a request without an API key', async () => {
    const response = await fetch(`${base}/v1/events`);
    expect(response.status).toBe(401);
  });

  it('says ready, then announces the topics that changed, to every listener', async () => {
    const open = () =>
      fetch(`${base}/v1/events`, { headers: { ...server.auth(), accept: 'text/event-stream' } }).then((response) => {
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
        return eventReader(response.body!);
      });
    const first = await open();
    const second = await open();
    expect(await first(20_000)).toEqual({ event: 'ready', topics: ['lines', 'releases', 'rollouts', 'devices'] });
    expect((await second(20_000)).event).toBe('ready');

    await createLine(server, 'events-line');
    const seen = [await first(20_000), await second(20_000)];
    for (const event of seen) expect(event).toEqual({ event: 'change', topics: ['lines'] });

    const token = await server.app.inject({
      method: 'POST',
      url: '/v1/enrollment-tokens',
      headers: server.auth(),
      payload: { name: 'events', scope: { line: 'events-line' } },
    });
    expect(token.statusCode).toBe(201);
    const enrolled = await server.app.inject({
      method: 'POST',
      url: '/v1/device/enroll',
      headers: { authorization: `Bearer ${token.json<{ token: string }>().token}` },
      payload: { deviceId: 'events-device' },
    });
    expect(enrolled.statusCode).toBe(201);
    expect((await first(20_000)).topics).toContain('devices');
  }, 90_000);

  it('ends open streams when the server closes, so closing does not wait for them', async () => {
    const response = await fetch(`${base}/v1/events`, { headers: server.auth() });
    const next = eventReader(response.body!);
    expect((await next(20_000)).event).toBe('ready');
    await server.app.close();
    await expect(next(20_000)).rejects.toThrow('the stream ended');
  }, 60_000);
});
