import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  ErrorResponse,
  LineParams,
  PublishBody,
  Release,
  ReleaseList,
  ReleaseListQuery,
  type OptimizationPolicy,
} from '@modelfleet/contracts';
import { enqueuePrecomputeDeltas } from '@modelfleet/catalog';
import { publishRelease } from '@modelfleet/releases';
import { person } from '../../../auth/access.js';
import { CandidateNotFound, VersionNotFound, VersionNotReady } from '../../../domain/errors.js';
import { RequestInvalid } from '../../../errors.js';
import { findLineOrThrow } from '../../../domain/lines.js';
import { releaseOut } from '../../../domain/serialize.js';

const errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export const releaseRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post(
    '/:line/releases',
    {
      config: { access: person('publish') },
      schema: {
        tags: ['releases'],
        summary: "Publish a candidate (or a version's selected winner) as the channel's next signed release",
        params: LineParams,
        body: PublishBody,
        response: { 201: Release, ...errors },
      },
    },
    async (request, reply) => {
      const { db, signingKey } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const { candidateId, version, channel } = request.body;
      if ((candidateId === undefined) === (version === undefined)) {
        throw new RequestInvalid('give exactly one of candidateId and version');
      }
      let chosen: string;
      if (candidateId !== undefined) {
        const candidate = await db.prisma.candidate.findFirst({
          where: { id: candidateId, version: { lineId: line.id } },
        });
        if (candidate === null) throw new CandidateNotFound(candidateId, line.name);
        chosen = candidate.id;
      } else {
        const row = await db.prisma.modelVersion.findFirst({ where: { id: version!, lineId: line.id } });
        if (row === null) throw new VersionNotFound(version!, line.name);
        if (row.winnerCandidateId === null) throw new VersionNotReady(row.id, row.status);
        chosen = row.winnerCandidateId;
      }
      const policy = line.policy as unknown as OptimizationPolicy;
      const release = await publishRelease(db, signingKey, {
        lineId: line.id,
        channel: channel ?? policy.channel,
        candidateId: chosen,
      });
      request.log.info({ line: line.name, release: release.number, candidateId: chosen }, 'release published');
      // Deltas to it from what the channel's devices run (issue 6); polls compute any missing one on demand.
      await enqueuePrecomputeDeltas(fastify.services.queue, release.id).catch((error: unknown) =>
        request.log.warn({ err: error, releaseId: release.id }, 'could not queue the delta precompute'),
      );
      const full = await db.prisma.release.findUniqueOrThrow({
        where: { id: release.id },
        include: { channel: true, candidate: true },
      });
      return reply.status(201).send(releaseOut(full, line.name));
    },
  );

  fastify.get(
    '/:line/releases',
    {
      config: { access: person('read') },
      schema: {
        tags: ['releases'],
        summary: "A line's releases, newest first",
        params: LineParams,
        querystring: ReleaseListQuery,
        response: { 200: ReleaseList, ...errors },
      },
    },
    async (request) => {
      const { db } = fastify.services;
      const line = await findLineOrThrow(db, request.params.line);
      const rows = await db.prisma.release.findMany({
        where: {
          lineId: line.id,
          ...(request.query.channel === undefined ? {} : { channel: { name: request.query.channel } }),
        },
        include: { channel: true, candidate: true },
        orderBy: [{ createdAt: 'desc' }, { number: 'desc' }],
        take: 200,
      });
      return { items: rows.map((row) => releaseOut(row, line.name)) };
    },
  );
};
