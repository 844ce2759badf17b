import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient } from './client.js';
import { CliApiError, ResponseUnexpected } from './errors.js';

type Answer = (request: IncomingMessage, response: ServerResponse) => void;

describe('createApiClient', () => {
  let answer: Answer = (_request, response) => response.end();
  const seen: { method: string; url: string; authorization: string | undefined; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({
        method: request.method ?? '',
        url: request.url ?? '',
        authorization: request.headers.authorization,
        body,
      });
      answer(request, response);
    });
  });
  let url = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const json =
    (status: number, value: unknown): Answer =>
    (_request, response) =>
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

  it('throws the server error with its code, status, details and request id', async () => {
    answer = json(404, {
      statusCode: 404,
      code: 'MF_ERR_VERSION_NOT_FOUND',
      error: 'Not Found',
      message: 'version v9 not found',
      details: { version: 'v9' },
      requestId: 'req-7',
    });
    const error = await createApiClient({ server: url, key: 'mfk_k' })
      .getVersion('sorter', 'v9')
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(CliApiError);
    expect(error).toMatchObject({
      code: 'MF_ERR_VERSION_NOT_FOUND',
      statusCode: 404,
      message: 'version v9 not found',
      details: { version: 'v9' },
      requestId: 'req-7',
      method: 'GET',
    });
    expect(seen.at(-1)).toMatchObject({ url: '/v1/models/sorter/versions/v9', authorization: 'Bearer mfk_k' });
  });

  it('says what came back when an answer is not the API’s (a proxy page, a body that is not JSON)', async () => {
    answer = (_request, response) =>
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    await expect(createApiClient({ server: url }).listModelLines()).rejects.toMatchObject({
      code: ResponseUnexpected.code,
      message: expect.stringContaining('answered HTTP 502 with "<html>bad gateway</html>"'),
    });
    answer = (_request, response) => response.writeHead(200).end('hello');
    await expect(createApiClient({ server: url }).whoami()).rejects.toMatchObject({ code: ResponseUnexpected.code });
  });

  it('sends JSON bodies, encodes path segments and query values, and takes a 204 as done', async () => {
    answer = json(201, { id: 'r1' });
    const client = createApiClient({ server: url });
    await client.publish('sorter', { candidateId: 'c 1', channel: 'canary' });
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/v1/models/sorter/releases',
      body: '{"candidateId":"c 1","channel":"canary"}',
    });

    answer = json(200, { items: [] });
    await client.listReleases('sorter', { channel: 'canary' });
    expect(seen.at(-1)?.url).toBe('/v1/models/sorter/releases?channel=canary');
    await client.listReleases('sorter');
    expect(seen.at(-1)?.url).toBe('/v1/models/sorter/releases');

    answer = (_request, response) => response.writeHead(204).end();
    await expect(client.deleteDataset('sorter', 'a/b')).resolves.toBeUndefined();
    expect(seen.at(-1)).toMatchObject({ method: 'DELETE', url: '/v1/models/sorter/datasets/a%2Fb' });

    answer = (_request, response) => response.writeHead(200, { 'content-type': 'text/markdown' }).end('| variant |\n');
    await expect(client.getCandidateTable('sorter', 'v1', 'markdown')).resolves.toBe('| variant |\n');
    expect(seen.at(-1)?.url).toBe('/v1/models/sorter/versions/v1?format=markdown');
  });
});
