import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  CreateEnrollmentTokenBody,
  CreatedEnrollmentToken,
  EnrollmentTokenList,
  ErrorResponse,
} from '@modelfleet/contracts';
import { person } from '../../../auth/access.js';
import { createEnrollmentToken, enrollmentTokenOut } from '../../../devices/enrollment.js';
import { EnrollmentTokenNotFound } from '../../../devices/errors.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };

/** Fleet enrolment tokens: operators create them for a line and channel, hand them to a fleet, revoke them. */
export const enrollmentTokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/v1/enrollment-tokens',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['devices'],
        summary: 'Create a fleet enrolment token (mfe_…, shown once) for a line and channel',
        body: CreateEnrollmentTokenBody,
        response: { 201: CreatedEnrollmentToken, 404: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { row, token } = await createEnrollmentToken(fastify.services.db, request.body);
      request.log.info({ enrollmentTokenId: row.id, scope: request.body.scope }, 'enrolment token created');
      return reply.status(201).send({ ...enrollmentTokenOut(row), token });
    },
  );

  fastify.get(
    '/v1/enrollment-tokens',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['devices'],
        summary: 'List enrolment tokens (never the secrets)',
        response: { 200: EnrollmentTokenList, ...errors },
      },
    },
    async () => {
      const rows = await fastify.services.db.prisma.enrollmentToken.findMany({ orderBy: { createdAt: 'asc' } });
      return { items: rows.map(enrollmentTokenOut) };
    },
  );

  fastify.delete(
    '/v1/enrollment-tokens/:id',
    {
      config: { access: person('admin') },
      schema: {
        tags: ['devices'],
        summary: 'Revoke an enrolment token (devices enrolled with it keep working)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), 404: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { count } = await fastify.services.db.prisma.enrollmentToken.updateMany({
        where: { id: request.params.id, revokedAt: null },
        data: { revokedAt: new Date() },
      });
      if (count === 0) throw new EnrollmentTokenNotFound(request.params.id);
      return reply.status(204).send(null);
    },
  );
};
