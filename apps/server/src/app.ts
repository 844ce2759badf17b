import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { errorHandler } from './plugins/error-handler.js';
import { openApi } from './plugins/openapi.js';
import { healthRoutes } from './routes/health.js';
import type { AppServices } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    services: AppServices;
  }
}

export interface AppOptions {
  services: AppServices;
  version: string;
}

/**
 * The ModelFleet HTTP app as a plugin: external plugins (OpenAPI, errors) first, then the services the
 * routes use, then the routes. It owns no process concerns (listen, signals, logging sinks): see server.ts.
 */
export const app = fp(
  async (fastify: FastifyInstance, options: AppOptions) => {
    await fastify.register(errorHandler);
    await fastify.register(openApi, { version: options.version });
    fastify.decorate('services', options.services);
    await fastify.register(healthRoutes);
  },
  { name: 'modelfleet-app' },
);
