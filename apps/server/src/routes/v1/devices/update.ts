import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorResponse, UpdateAnswer, UpdateQuery } from '@modelfleet/contracts';
import type { RouteAccess } from '../../../auth/access.js';
import { ifNoneMatchMatches } from '../../../devices/byte-range.js';
import { NoBody } from './no-body.js';

const DEVICE: RouteAccess = { kind: 'device' };

/**
 * The poll. The hot path — a device that already runs the target — touches only memory: the device
 * token cache, the cached target release (devices/targets.ts) and its cached signed offer; no query, no signature.
 */
export const updateRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get(
    '/v1/device/update',
    {
      config: { access: DEVICE },
      schema: {
        tags: ['devices'],
        summary:
          'Poll for an update (Authorization: Bearer mfd_…): 304 when nothing changed, 204 when the channel has no release',
        description:
          '`current` is the sha256 of the artifact the device runs; `If-None-Match` the ETag of the last answer. ' +
          'Either matching the target answers 304. Otherwise 200 carries an update offer signed at answer time ' +
          '(kind `update-offer`, valid until `expiresAt`) and the release manifest signed at publish time.',
        querystring: UpdateQuery,
        response: {
          200: UpdateAnswer,
          204: NoBody('the channel has no release yet'),
          304: NoBody('the device runs the target already'),
          400: ErrorResponse,
          401: ErrorResponse,
          403: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const polls = fastify.services.devices.polls;
      const answer = await polls.forDevice(request.device!, request.query.current);
      if (answer === null) {
        polls.count('noRelease');
        return reply.status(204).send(undefined);
      }
      reply.header('etag', answer.etag).header('cache-control', 'no-cache');
      if (
        request.query.current === answer.targetSha256 ||
        ifNoneMatchMatches(request.headers['if-none-match'], answer.etag)
      ) {
        polls.count('notModified');
        return reply.status(304).send(undefined);
      }
      polls.count('offered');
      return reply.status(200).send(answer.answer);
    },
  );
};
