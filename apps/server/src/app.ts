import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import multipart from '@fastify/multipart';
import { authPlugin } from './auth/plugin.js';
import { errorHandler } from './plugins/error-handler.js';
import { openApi } from './plugins/openapi.js';
import { requestLimits } from './plugins/limits.js';
import { securityHeaders } from './plugins/security-headers.js';
import { healthRoutes } from './routes/health.js';
import { keyRoutes } from './routes/v1/keys.js';
import { modelRoutes } from './routes/v1/models/index.js';
import { deviceRoutes, publishEviction } from './routes/v1/devices/index.js';
import { blobRoutes } from './routes/v1/blobs/index.js';
import { rolloutRoutes } from './routes/v1/rollouts/index.js';
import { operatorView } from './dashboard/plugin.js';
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
 * The ModelFleet HTTP app as a plugin: external plugins (errors, OpenAPI, multipart) first, then the
 * services and authentication the routes use, then the routes. It owns no process concerns (listen,
 * signals, logging sinks): see server.ts.
 */
export const app = fp(
  async (fastify: FastifyInstance, options: AppOptions) => {
    await fastify.register(errorHandler);
    await fastify.register(securityHeaders);
    await fastify.register(requestLimits, { limits: options.services.limits.requests });
    await fastify.register(openApi, { version: options.version });
    await fastify.register(multipart, {
      // Per-route limits are enforced while streaming (see domain/uploads.ts); these bound the parser.
      limits: {
        fileSize: Math.max(options.services.limits.modelUploadBytes, options.services.limits.datasetUploadBytes),
      },
    });
    fastify.decorate('services', options.services);
    await fastify.register(authPlugin);
    await fastify.register(publishEviction);
    await fastify.register(healthRoutes);
    await fastify.register(keyRoutes);
    await fastify.register(modelRoutes, { prefix: '/v1/models' });
    await fastify.register(deviceRoutes);
    await fastify.register(blobRoutes);
    await fastify.register(rolloutRoutes);
    await fastify.register(operatorView);
  },
  { name: 'modelfleet-app' },
);
