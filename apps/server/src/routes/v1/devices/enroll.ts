import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Enrolled, EnrollBody, ErrorResponse } from '@modelfleet/contracts';
import { PUBLIC } from '../../../auth/access.js';
import { CredentialMissing } from '../../../auth/errors.js';
import { bearerToken } from '../../../auth/plugin.js';
import { enrollDevice } from '../../../devices/enrollment.js';

/**
 * A device exchanges a fleet enrolment token (the bearer) for its own token. The route is public to the
 * auth plugin because the credential is an enrolment token, which only this handler checks.
 */
export const enrollRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/device/enroll',
    {
      config: { access: PUBLIC },
      schema: {
        tags: ['devices'],
        summary:
          'Enrol a device with a fleet enrolment token (Authorization: Bearer mfe_…); the device token is shown once',
        body: EnrollBody,
        response: { 201: Enrolled, 400: ErrorResponse, 401: ErrorResponse, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const token = bearerToken(request);
      if (token === undefined) throw new CredentialMissing('an enrolment token (Authorization: Bearer mfe_…)');
      const result = await enrollDevice(fastify.services.db, token, request.body);
      // A rotated token: this process stops trusting the old one at once (others within their cache TTL).
      fastify.services.devices.auth.evictDevice(result.deviceRowId);
      request.log.info({ deviceId: result.enrolled.deviceId, rotated: result.rotated }, 'device enrolled');
      return reply.status(201).send(result.enrolled);
    },
  );
};
