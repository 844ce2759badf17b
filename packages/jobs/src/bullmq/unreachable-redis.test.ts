import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContractCatalog } from '../testing/contract-catalog.js';
import { createBullMqQueue } from './bullmq-queue.js';
import { createBullMqWorker } from './bullmq-worker.js';

/**
 * A Redis that accepts connections and never answers (a hung server, a black-holing proxy): the
 * factories must give up with MF_ERR_JOB_QUEUE_UNAVAILABLE rather than hang the host's start-up.
 */
describe('BullMQ drivers against a Redis that never answers', () => {
  let silent: Server;
  const sockets = new Set<Socket>();
  let redisUrl = '';

  beforeAll(async () => {
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    redisUrl = `redis://127.0.0.1:${String(address.port)}`;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('createBullMqQueue fails within its connect timeout', async () => {
    const started = performance.now();
    await expect(
      createBullMqQueue(createContractCatalog(), { redisUrl, prefix: 'never', connectTimeoutMs: 300 }),
    ).rejects.toMatchObject({ code: 'MF_ERR_JOB_QUEUE_UNAVAILABLE', statusCode: 503 });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('createBullMqWorker fails within its connect timeout', async () => {
    await expect(
      createBullMqWorker(createContractCatalog(), {
        redisUrl,
        prefix: 'never',
        services: { attempts: new Map() },
        cpu: { size: 1 },
        connectTimeoutMs: 300,
      }),
    ).rejects.toMatchObject({ code: 'MF_ERR_JOB_QUEUE_UNAVAILABLE' });
  });
});
