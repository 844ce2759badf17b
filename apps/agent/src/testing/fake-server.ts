/**
 * A stand-in for the server's device API (same routes and status codes as the contract), for tests that need
 * answers the real server never gives: tampered, old or expired manifests, a blob that is corrupt or cut short,
 * an outage. It counts blob bytes sent and records every report.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeviceReportBody, UpdateAnswer } from '@modelfleet/contracts';

export interface FakeDeviceServer {
  url: string;
  /** What polls get: null answers 204. */
  answer: UpdateAnswer | null;
  blobs: Map<string, Uint8Array>;
  reports: (DeviceReportBody & { deviceToken: string })[];
  /** Bytes of blob bodies written, and the Range headers seen. */
  blobBytesSent: number;
  ranges: (string | null)[];
  polls: number;
  /** While true every request is answered 503. */
  down: boolean;
  /** The Retry-After header sent with the 503 while down; null: none. */
  retryAfter: string | null;
  /** Blob bodies stop (connection destroyed) after this many bytes, once; null: never. */
  cutBlobAfter: number | null;
  close(): Promise<void>;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
}

export async function startFakeDeviceServer(): Promise<FakeDeviceServer> {
  const seenKeys = new Set<string>();
  let enrolled = 0;
  const fake: FakeDeviceServer = {
    url: '',
    answer: null,
    blobs: new Map(),
    reports: [],
    blobBytesSent: 0,
    ranges: [],
    polls: 0,
    down: false,
    retryAfter: null,
    cutBlobAfter: null,
    close: async () => {},
  };
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://x');
      const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      if (fake.down)
        return json(
          response,
          503,
          { statusCode: 503, code: 'MF_ERR_TEST_DOWN', error: 'Service Unavailable', message: 'down' },
          fake.retryAfter === null ? {} : { 'retry-after': fake.retryAfter },
        );
      if (request.method === 'POST' && url.pathname === '/v1/device/enroll') {
        const body = (await readBody(request)) as { deviceId: string; tags?: string[] };
        if (!token.startsWith('mfe_')) return json(response, 401, { code: 'MF_ERR_UNAUTHORIZED' });
        enrolled += 1;
        return json(response, 201, {
          deviceId: body.deviceId,
          deviceToken: `mfd_fake_${enrolled}_${body.deviceId}`,
          line: 'sorter',
          channel: 'stable',
          tags: body.tags ?? [],
        });
      }
      if (!token.startsWith('mfd_')) return json(response, 401, { code: 'MF_ERR_UNAUTHORIZED' });
      if (request.method === 'GET' && url.pathname === '/v1/device/update') {
        fake.polls += 1;
        if (fake.answer === null) {
          response.writeHead(204).end();
          return;
        }
        const etag = `"r${fake.answer.offer.signed.release}-${fake.answer.offer.signed.target.sha256.slice(0, 12)}-${fake.answer.offer.signed.expiresAt}"`;
        if (request.headers['if-none-match'] === etag) {
          response.writeHead(304, { etag }).end();
          return;
        }
        return json(response, 200, fake.answer, { etag });
      }
      const blob = /^\/v1\/blobs\/([0-9a-f]{64})$/.exec(url.pathname);
      if (request.method === 'GET' && blob !== null) {
        const bytes = fake.blobs.get(blob[1]!);
        if (bytes === undefined) return json(response, 404, { code: 'MF_ERR_BLOB_NOT_FOUND' });
        const range = request.headers.range ?? null;
        fake.ranges.push(range);
        let start = 0;
        if (range !== null) {
          const match = /^bytes=(\d+)-$/.exec(range);
          start = match === null ? -1 : Number(match[1]);
          if (start < 0 || start >= bytes.length) {
            response.writeHead(416, { 'content-range': `bytes */${bytes.length}` }).end();
            return;
          }
        }
        const body = bytes.subarray(start);
        response.writeHead(range === null ? 200 : 206, {
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          'accept-ranges': 'bytes',
          ...(range === null ? {} : { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` }),
        });
        const cut = fake.cutBlobAfter;
        if (cut !== null && cut < body.length) {
          fake.cutBlobAfter = null;
          fake.blobBytesSent += cut;
          response.write(body.subarray(0, cut), () => response.destroy());
          return;
        }
        fake.blobBytesSent += body.length;
        response.end(body);
        return;
      }
      if (request.method === 'POST' && url.pathname === '/v1/device/reports') {
        const body = (await readBody(request)) as DeviceReportBody;
        const accepted = !seenKeys.has(body.idempotencyKey);
        if (accepted) {
          seenKeys.add(body.idempotencyKey);
          fake.reports.push({ ...body, deviceToken: token });
        }
        return json(response, 202, { accepted });
      }
      return json(response, 404, { code: 'MF_ERR_NOT_FOUND' });
    })().catch((error: unknown) => {
      response.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
