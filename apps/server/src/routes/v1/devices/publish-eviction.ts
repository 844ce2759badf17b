import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The publish route of the models API (routes/v1/models/releases.ts). */
const PUBLISH_ROUTE = '/v1/models/:line/releases';

/**
 * Polls cache each channel's latest release for a couple of seconds; a release published through this
 * process's API evicts that cache at once, so its devices see it on their next poll. Releases published
 * elsewhere (the optimize job, other processes) are seen when the short TTL ends.
 * Done as a hook so the publish route needs no knowledge of the device caches.
 */
export const publishEviction = fp(
  async (fastify: FastifyInstance) => {
    fastify.addHook('onResponse', async (request, reply) => {
      if (request.method === 'POST' && reply.statusCode === 201 && request.routeOptions.url === PUBLISH_ROUTE) {
        fastify.services.devices.polls.releasePublished();
      }
    });
  },
  { name: 'modelfleet-publish-eviction' },
);
