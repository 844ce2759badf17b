import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import fp from 'fastify-plugin';
import { Type } from 'typebox';
import {
  CreateRolloutBody,
  DeviceIdString,
  DevicePin,
  ErrorResponse,
  PinBody,
  ROLLOUT_ACTIONS,
  RolloutActionBody,
  RolloutList,
  RolloutListQuery,
  RolloutMemberList,
  RolloutParams,
  RolloutView,
} from '@modelfleet/contracts';
import { enqueuePrecomputeDeltas } from '@modelfleet/catalog';
import { person } from '../../../auth/access.js';
import { createRolloutService, type RolloutService } from '../../../rollouts/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Rollouts of this process: the routes' service and the periodic sweep (timeouts, devices that joined). */
    rollouts: RolloutService;
  }
}

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const tags = ['rollouts'];

/** /v1/rollouts (read to view; publish to act) and device pins under /v1/devices/:deviceId/pin. */
export const rolloutRoutes = fp(
  async (fastify) => {
    const { db, signingKey, queue, intervals } = fastify.services;
    const service = createRolloutService(db, signingKey, {
      releasePublished: async (releaseId) => void (await enqueuePrecomputeDeltas(queue, releaseId)),
      logger: fastify.log.child({ component: 'rollouts' }),
    });
    fastify.decorate('rollouts', service);
    fastify.addHook('onReady', async () => service.startSweep(intervals.rolloutSweepMs));
    fastify.addHook('onClose', async () => service.close());
    await fastify.register(routes);
  },
  { name: 'modelfleet-rollouts' },
);

const routes: FastifyPluginAsyncTypebox = async (fastify) => {
  const service = fastify.rollouts;

  fastify.get(
    '/v1/rollouts',
    {
      config: { access: person('read') },
      schema: {
        tags,
        summary: 'Rollouts, newest first, with per-wave counts and progress',
        querystring: RolloutListQuery,
        response: { 200: RolloutList, ...errors },
      },
    },
    async (request) => ({ items: await service.list(request.query) }),
  );

  fastify.post(
    '/v1/rollouts',
    {
      config: { access: person('publish') },
      schema: {
        tags,
        summary:
          'Start a rollout of a release (or of a candidate, published held back for it) to a channel and tag filter, in waves',
        body: CreateRolloutBody,
        response: { 201: RolloutView, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await service.create(request.body)),
  );

  fastify.get(
    '/v1/rollouts/:id',
    {
      config: { access: person('read') },
      schema: { tags, summary: 'One rollout', params: RolloutParams, response: { 200: RolloutView, ...errors } },
    },
    async (request) => service.view(request.params.id),
  );

  fastify.get(
    '/v1/rollouts/:id/devices',
    {
      config: { access: person('read') },
      schema: {
        tags,
        summary: "A rollout's devices: the wave each joined in and its state",
        params: RolloutParams,
        response: { 200: RolloutMemberList, ...errors },
      },
    },
    async (request) => ({ items: await service.members(request.params.id) }),
  );

  for (const action of ROLLOUT_ACTIONS) {
    fastify.post(
      `/v1/rollouts/:id/${action}`,
      {
        config: { access: person('publish') },
        schema: {
          tags,
          summary: ACTION_SUMMARIES[action],
          params: RolloutParams,
          body: RolloutActionBody,
          response: { 200: RolloutView, ...errors },
        },
        // The body is optional: `POST …/pause` with none is `{}`.
        preValidation: async (request) => {
          (request as { body: unknown }).body ??= {};
        },
      },
      async (request) => service.act(request.params.id, action, request.body.reason),
    );
  }

  const pinParams = Type.Object({ deviceId: DeviceIdString });
  fastify.put(
    '/v1/devices/:deviceId/pin',
    {
      config: { access: person('publish') },
      schema: {
        tags: ['devices'],
        summary: 'Pin a device to a release of its channel: it gets that release whatever rollouts do',
        params: pinParams,
        body: PinBody,
        response: { 200: DevicePin, ...errors },
      },
    },
    async (request) => service.pin(request.params.deviceId, request.body.release),
  );

  fastify.delete(
    '/v1/devices/:deviceId/pin',
    {
      config: { access: person('publish') },
      schema: {
        tags: ['devices'],
        summary: 'Unpin a device: it follows rollouts and its channel again',
        params: pinParams,
        response: { 200: DevicePin, ...errors },
      },
    },
    async (request) => service.pin(request.params.deviceId, null),
  );
};

const ACTION_SUMMARIES: Record<(typeof ROLLOUT_ACTIONS)[number], string> = {
  pause: 'Pause a running rollout (members keep their offer; no new devices join)',
  resume: 'Resume a paused rollout (errors so far are acknowledged: the error threshold counts new ones)',
  abort: 'Abort a rollout: no more devices get its release (devices that installed it keep it)',
  approve: 'Start the next wave of a rollout awaiting approval',
  rollback:
    'Roll back: republish the release before this one under a new, higher number, so every device returns to it',
};
