import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client.js';
import { CliApiError, ServerUnreachable } from './errors.js';
import { filePart } from './multipart.js';

const MiB = 1024 * 1024;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('streamed uploads', () => {
  let folder: string;
  let bigFile: string;
  const bigSize = 160 * MiB;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'mf-cli-stream-'));
    bigFile = join(folder, 'big.tar.gz');
    const out = createWriteStream(bigFile);
    const block = randomBytes(MiB);
    for (let written = 0; written < bigSize; written += MiB) {
      if (!out.write(block)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  });
  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('keeps memory flat: live buffers stay far below the size of the file', async () => {
    // A real GC between samples, so only live buffers count (fetch's retention, nodejs/undici#4058, would
    // show here as arrayBuffers growing with every MiB sent).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // The receiving side only counts bytes, so every live buffer measured is the client's.
    let received = 0;
    const server = createServer((request, response) => {
      request.on('data', (chunk: Buffer) => (received += chunk.length));
      request.on('end', () =>
        response
          .writeHead(202, { 'content-type': 'application/json' })
          .end('{"id":"v","status":"uploaded","statusUrl":"/v"}'),
      );
    });
    const url = await listen(server);
    try {
      const samples: number[] = [];
      let nextSample = 16 * MiB;
      const client = createApiClient({ server: url });
      const part = await filePart('archive', bigFile);
      await client.uploadVersion('sorter', [part], {
        onProgress: (sent) => {
          if (sent < nextSample) return;
          nextSample += 16 * MiB;
          // Twice: V8 frees ArrayBuffer memory concurrently after a GC; the next GC waits for that sweep,
          // without which samples show 16-32 MiB of already-dead buffers now and then.
          gc();
          gc();
          samples.push(process.memoryUsage().arrayBuffers);
        },
      });
      expect(received).toBeGreaterThan(bigSize);
      expect(samples.length).toBeGreaterThanOrEqual(9);
      expect(Math.max(...samples)).toBeLessThan(8 * MiB);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('returns the server’s early answer (it refused before reading the body) with its code', async () => {
    let bodyBytesRead = 0;
    const server = createServer((request, response) => {
      request.once('data', (chunk: Buffer) => (bodyBytesRead += chunk.length));
      response.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      response.end(
        JSON.stringify({
          statusCode: 413,
          code: 'MF_ERR_BODY_TOO_LARGE',
          error: 'Payload Too Large',
          message: 'request body is larger than 1024 bytes',
        }),
      );
      request.socket.destroySoon();
    });
    const url = await listen(server);
    try {
      const error = await createApiClient({ server: url })
        .uploadVersion('sorter', [await filePart('archive', bigFile)])
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(CliApiError);
      expect(error).toMatchObject({ code: 'MF_ERR_BODY_TOO_LARGE', statusCode: 413 });
      expect(bodyBytesRead).toBeLessThan(bigSize);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('says the server hung up during the upload when it resets the connection without an answer', async () => {
    const server = createServer((request) => request.socket.destroy());
    const url = await listen(server);
    try {
      await expect(
        createApiClient({ server: url }).uploadVersion('sorter', [await filePart('archive', bigFile)]),
      ).rejects.toMatchObject({
        code: ServerUnreachable.code,
        message: expect.stringMatching(
          new RegExp(
            `^cannot reach the ModelFleet server at ${url} \\(POST /v1/models/sorter/versions\\): .*(ECONNRESET|EPIPE).*closed the connection during the upload`,
          ),
        ),
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
