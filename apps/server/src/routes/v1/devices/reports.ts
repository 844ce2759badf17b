import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DeviceReportBody, ErrorResponse, ReportAccepted } from '@modelfleet/contracts';
import type { RouteAccess } from '../../../auth/access.js';
import { recordReport } from '../../../devices/reports.js';

const DEVICE: RouteAccess = { kind: 'device' };

export const reportRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/device/reports',
    {
      config: { access: DEVICE },
      schema: {
        tags: ['devices'],
        summary: 'Report a state transition (idempotent by idempotencyKey)',
        body: DeviceReportBody,
        response: { 202: ReportAccepted, 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse },
      },
    },
    async (request, reply) => {
      const accepted = await recordReport(fastify.services.db, request.device!, request.body);
      request.log.info(
        { deviceId: request.device!.deviceId, state: request.body.state, release: request.body.release, accepted },
        'device report',
      );
      return reply.status(202).send({ accepted });
    },
  );
};
