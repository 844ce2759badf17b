import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { CreateModelLineBody, ErrorResponse, LineParams, ModelLine, ModelLineList } from '@modelfleet/contracts';
import { person } from '../../../auth/access.js';
import { LineExists } from '../../../domain/errors.js';
import { completePolicy, findLineOrThrow } from '../../../domain/lines.js';
import { modelLineOut } from '../../../domain/serialize.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse };

export const lineRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/',
    {
      // One path, /v1/models, as clients call it (and as OpenAPI then documents it), not also /v1/models/.
      prefixTrailingSlash: 'no-slash',
      config: { access: person('upload') },
      schema: {
        tags: ['models'],
        summary: 'Create a model line: its input preprocessing, classes and optimization policy',
        body: CreateModelLineBody,
        response: { 201: ModelLine, 409: ErrorResponse, ...errors },
      },
    },
    async (request, reply) => {
      const { db } = fastify.services;
      const policy = completePolicy(request.body.policy);
      const existing = await db.prisma.modelLine.findUnique({ where: { name: request.body.name } });
      if (existing !== null) throw new LineExists(request.body.name);
      // The line and its channel in one statement: a line never exists without the channel it publishes to.
      const line = await db.prisma.modelLine
        .create({
          data: {
            name: request.body.name,
            preprocessing: request.body.preprocessing,
            policy,
            channels: { create: { name: policy.channel } },
          },
        })
        .catch((error: unknown) => {
          // Two creates racing: the unique index decides, the loser gets the same answer as above.
          if ((error as { code?: string }).code === 'P2002') throw new LineExists(request.body.name);
          throw error;
        });
      return reply.status(201).send(modelLineOut(line));
    },
  );

  fastify.get(
    '/',
    {
      prefixTrailingSlash: 'no-slash',
      config: { access: person('read') },
      schema: { tags: ['models'], summary: 'List model lines', response: { 200: ModelLineList, ...errors } },
    },
    async () => {
      const rows = await fastify.services.db.prisma.modelLine.findMany({ orderBy: { name: 'asc' } });
      return { items: rows.map(modelLineOut) };
    },
  );

  fastify.get(
    '/:line',
    {
      config: { access: person('read') },
      schema: {
        tags: ['models'],
        summary: 'One model line',
        params: LineParams,
        response: { 200: ModelLine, 404: ErrorResponse, ...errors },
      },
    },
    async (request) => modelLineOut(await findLineOrThrow(fastify.services.db, request.params.line)),
  );
};
