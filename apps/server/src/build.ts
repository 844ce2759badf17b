import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { app } from './app.js';
import type { AppServices } from './services.js';

export interface BuildOptions {
  services: AppServices;
  logger: FastifyBaseLogger | false;
  bodyLimitBytes?: number;
  version?: string;
}

/** A Fastify instance with the app registered and ready; tests use `inject()` on it without a port. */
export async function buildServer(options: BuildOptions): Promise<FastifyInstance> {
  const fastify = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    // Answer 503 to new requests while closing, and wait for in-flight ones (uploads) to finish.
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<TypeBoxTypeProvider>();
  await fastify.register(app, { services: options.services, version: options.version ?? '0.1.0' });
  await fastify.ready();
  return fastify;
}
