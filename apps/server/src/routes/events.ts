import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ErrorResponse } from '@modelfleet/contracts';
import { person } from '../auth/access.js';
import { CHANGE_TOPICS, createChangeFeed, type ChangeTopic } from '../dashboard/change-feed.js';

export interface EventRoutesOptions {
  /** A comment line this often keeps proxies from closing an idle stream; default 15 s. */
  heartbeatMs?: number;
}

function frame(event: string, topics: readonly ChangeTopic[]): string {
  return `event: ${event}\ndata: ${JSON.stringify({ topics })}\n\n`;
}

/**
 * GET /v1/events: server-sent events for the dashboard. `ready` once the stream is measured (fetch every
 * view then), `change` with the topics that moved since. Authenticated like every read route (a bearer
 * API key), so browsers read it with fetch() and a stream reader: EventSource cannot send headers.
 */
export const eventRoutes: FastifyPluginAsyncTypebox<EventRoutesOptions> = async (fastify, options) => {
  const feed = createChangeFeed(fastify.services.db, {
    // How often the shared change poll runs while someone listens (EVENTS_POLL_MS).
    intervalMs: fastify.services.intervals.eventsPollMs,
    logger: fastify.log.child({ component: 'change-feed' }),
  });
  const open = new Set<ServerResponse>();
  // Streams never end on their own: end them before the server waits for its connections to close.
  fastify.addHook('preClose', async () => {
    for (const response of open) response.end();
    feed.close();
  });

  fastify.get(
    '/v1/events',
    {
      config: { access: person('read') },
      schema: {
        tags: ['dashboard'],
        summary: 'Change notices for live views (text/event-stream): `ready`, then `change` with the topics',
        produces: ['text/event-stream'],
        response: {
          200: Type.String({
            description: `events \`ready\` and \`change\`, data \`{"topics": [...]}\` from ${CHANGE_TOPICS.join(', ')}`,
          }),
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      response.write('retry: 3000\n\n');
      open.add(response);
      const heartbeat = setInterval(() => response.write(': ping\n\n'), options.heartbeatMs ?? 15_000);
      const unsubscribe = feed.subscribe(
        (topics) => response.write(frame('change', topics)),
        () => response.write(frame('ready', CHANGE_TOPICS)),
      );
      const stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(response);
      };
      request.raw.on('close', stop);
      response.on('close', stop);
    },
  );
};
