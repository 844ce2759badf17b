/**
 * The ceiling of bench:poll: a bare Fastify app whose poll route answers 304 with an ETag and does nothing
 * else — no authentication, no caches, no logging — on the same URL and headers the real server gets.
 *
 *   tsx bench/bare-server.ts <port>
 */
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 0);
const fastify = Fastify({ logger: false });
fastify.get('/v1/device/update', async (_request, reply) => reply.status(304).header('etag', '"bare"').send());
fastify.get('/healthz', async () => ({ status: 'ok' }));
await fastify.listen({ port, host: '127.0.0.1' });
process.once('SIGTERM', () => void fastify.close().then(() => process.exit(0)));
