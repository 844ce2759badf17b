import type { FastifyPluginAsync } from 'fastify';
import { datasetRoutes } from './datasets.js';
import { lineRoutes } from './lines.js';
import { releaseRoutes } from './releases.js';
import { versionRoutes } from './versions.js';

/** Everything under /v1/models: lines, their datasets, versions and releases. */
export const modelRoutes: FastifyPluginAsync = async (fastify) => {
  await fastify.register(lineRoutes);
  await fastify.register(datasetRoutes);
  await fastify.register(versionRoutes);
  await fastify.register(releaseRoutes);
};
